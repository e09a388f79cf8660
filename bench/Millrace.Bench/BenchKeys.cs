using Millrace.Redis;

namespace Millrace.Bench;

/// <summary>Cleanup shared by the benchmarks.</summary>
internal static class BenchKeys
{
    /// <summary>Deletes every key of a run: SCAN MATCH prefix:*, then DEL.</summary>
    public static async Task DeleteNamespaceAsync(IRedisClient control, string prefix)
    {
        var cursor = "0";
        do
        {
            var reply = await control.ExecuteAsync(new RedisCommand("SCAN", [cursor, "MATCH", $"{prefix}:*", "COUNT", 1000]), CancellationToken.None);
            cursor = reply[0].AsString()!;
            var keys = reply[1].Items.Select(k => (RedisArg)k.AsString()!).ToArray();
            if (keys.Length > 0)
            {
                await control.ExecuteAsync(new RedisCommand("DEL", keys, 0), CancellationToken.None);
            }
        }
        while (cursor != "0");
    }
}
