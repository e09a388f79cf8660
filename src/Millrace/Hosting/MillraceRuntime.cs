using System.Collections.Concurrent;
using Millrace.Redis;

namespace Millrace;

/// <summary>What the publisher and consumers share: the Redis client, settings, key layouts, clock, telemetry.</summary>
internal sealed class MillraceRuntime(IRedisClient redis, MillraceOptions options, MillraceTelemetry telemetry, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, QueueKeys> _keys = new(StringComparer.Ordinal);

    public IRedisClient Redis { get; } = redis;

    public MillraceOptions Options { get; } = options;

    public MillraceTelemetry Telemetry { get; } = telemetry;

    public TimeProvider Time { get; } = time;

    /// <summary>This process's counts for the shared per-minute statistics.</summary>
    public QueueStatistics Statistics { get; } = new(options.Prefix, time);

    /// <summary>Concurrency and rate limits shared by the consumers of this process.</summary>
    public FlowControl Flow => _flow ??= new FlowControl(this);

    private FlowControl? _flow;

    /// <summary>Task records and lifecycle events (written only when enabled).</summary>
    public TaskTracker Tasks => _tasks ??= new TaskTracker(this);

    private TaskTracker? _tasks;

    /// <summary>The prefix of every key: the key prefix plus the namespace, if any.</summary>
    public string Prefix => Options.Prefix;

    public QueueKeys Keys(string queue) =>
        _keys.GetOrAdd(queue, q => new QueueKeys(Prefix, q, Options.Queue(q).Partitions, Options.Queue(q).PriorityLevels));

    /// <summary>
    /// Records the queue (registry set and its description) and checks that the partition count
    /// agrees with what is already recorded: producers and consumers that disagree would lose
    /// track of each other's partitions.
    /// </summary>
    public async Task DeclareAsync(string queue, CancellationToken cancellationToken)
    {
        var keys = Keys(queue);
        var created = await Redis.ExecuteAsync(new RedisCommand("HSETNX", [keys.Meta, "partitions", keys.Partitions], 0), cancellationToken).ConfigureAwait(false);
        if (created.AsInt64() == 1)
        {
            await Redis.HSetAsync(keys.Meta, [new("created_at", Time.GetUtcNow().ToUnixTimeMilliseconds())], cancellationToken).ConfigureAwait(false);
        }

        await Redis.ExecuteAsync(new RedisCommand("SADD", [QueueKeys.Registry(Prefix), queue], 0), cancellationToken).ConfigureAwait(false);
        var recorded = await Redis.HGetAsync(keys.Meta, "partitions", cancellationToken).ConfigureAwait(false);
        if (recorded != keys.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException(
                $"Queue '{queue}' has {recorded} partitions in Redis ({keys.Meta}) but this process is configured with {keys.Partitions}. " +
                "Every producer and consumer of a queue must agree on its partitions.");
        }
    }
}
