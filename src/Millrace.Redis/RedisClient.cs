using Millrace.Redis.Topology;

namespace Millrace.Redis;

/// <summary>Opens clients for standalone, Sentinel and Cluster deployments.</summary>
public static class RedisClient
{
    /// <summary>
    /// Validates <paramref name="options"/>, connects (so a wrong address or password fails here, with
    /// a message that says which) and returns the client.
    /// </summary>
    /// <example>
    /// <code>
    /// await using var redis = await RedisClient.ConnectAsync(RedisOptions.Parse("127.0.0.1:6379"));
    /// var id = await redis.XAddAsync("orders", [new("payload", "hello"u8.ToArray())]);
    /// </code>
    /// </example>
    public static async Task<IRedisClient> ConnectAsync(RedisOptions options, CancellationToken cancellationToken = default)
    {
        var client = Create(options);
        try
        {
            await client.ExecuteAsync(new RedisCommand("PING", []), cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Validates <paramref name="options"/> and returns a client that connects on its first command
    /// (for dependency injection, where construction cannot be asynchronous).
    /// </summary>
    public static IRedisClient Create(RedisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options = options.Clone();
        options.Validate();
        return options.Mode switch
        {
            RedisMode.Cluster => new ClusterClient(options),
            RedisMode.Sentinel => StandaloneClient.ForSentinel(options),
            _ => StandaloneClient.ForServer(options),
        };
    }

    /// <summary>Parses <paramref name="connectionString"/> (see <see cref="RedisOptions.Parse"/>) and connects.</summary>
    public static Task<IRedisClient> ConnectAsync(string connectionString, CancellationToken cancellationToken = default) =>
        ConnectAsync(RedisOptions.Parse(connectionString), cancellationToken);
}
