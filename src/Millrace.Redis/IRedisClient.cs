namespace Millrace.Redis;

/// <summary>
/// The small surface the rest of Millrace uses to talk to Redis. Typed commands (streams, sorted
/// sets, hashes, scripts...) are extension methods over these four calls.
/// </summary>
public interface IRedisClient : IAsyncDisposable
{
    /// <summary>The settings this client was made with.</summary>
    RedisOptions Options { get; }

    /// <summary>
    /// Sends one command on the shared pipelined connection (routed by its key on Cluster). An error
    /// reply throws <see cref="RedisServerException"/>; EVALSHA that meets NOSCRIPT is resent as EVAL.
    /// </summary>
    Task<RedisReply> ExecuteAsync(RedisCommand command, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends commands back to back in one write and returns every reply in order, error replies
    /// included (they are not thrown). On Cluster, commands are grouped per node.
    /// </summary>
    Task<RedisReply[]> ExecuteBatchAsync(IReadOnlyList<RedisCommand> commands, CancellationToken cancellationToken = default);

    /// <summary>Sends a command that may block on the server for up to <paramref name="block"/> on a dedicated connection.</summary>
    Task<RedisReply> ExecuteBlockingAsync(RedisCommand command, TimeSpan block, CancellationToken cancellationToken = default);

    /// <summary>Subscribes to a pub/sub channel; the subscription is active when the task completes and survives reconnects.</summary>
    Task<RedisSubscription> SubscribeAsync(string channel, CancellationToken cancellationToken = default);
}
