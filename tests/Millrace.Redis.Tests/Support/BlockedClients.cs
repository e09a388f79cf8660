namespace Millrace.Redis.Tests.Support;

/// <summary>Waits until the server shows a client of a given name parked in a blocking command.</summary>
public static class BlockedClients
{
    public static Task WaitUntilBlockedAsync(IRedisClient redis, string clientName) =>
        Eventually.GetAsync(
            async () => (await redis.ExecuteAsync(new RedisCommand("CLIENT", ["LIST"]))).AsString()!,
            list => list.Split('\n').Any(line => line.Contains($" name={clientName} ", StringComparison.Ordinal) && line.Contains(" flags=b ", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(5),
            $"a blocked client named {clientName}");
}
