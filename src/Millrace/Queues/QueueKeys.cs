namespace Millrace;

/// <summary>
/// Where a queue lives in Redis. Every key of one partition shares the hash tag
/// <c>{queue:partition}</c>, so each partition sits in one Cluster slot and every script touching
/// it stays in that slot; partitions of one queue spread over shards.
/// </summary>
/// <example>
/// Queue <c>orders</c>, prefix <c>millrace</c>, partition 0:
/// <c>millrace:{orders:0}:stream</c>, <c>millrace:{orders:0}:dedup:&lt;key&gt;</c>.
/// </example>
public sealed class QueueKeys
{
    /// <summary>Creates the layout for one queue.</summary>
    public QueueKeys(string prefix, string queue, int partitions, int levels = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(levels, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(levels, PriorityLevelsMax);
        Levels = levels;
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        QueueName.Validate(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partitions, 1024);
        Prefix = prefix;
        Queue = queue;
        Partitions = partitions;
        _streams = Enumerable.Range(0, partitions).Select(p => $"{prefix}:{Tag(p)}:stream").ToArray();
    }

    /// <summary>The most priority levels a queue may have.</summary>
    public const int PriorityLevelsMax = 10;

    private readonly string[] _streams;

    /// <summary>The key prefix (a namespace).</summary>
    public string Prefix { get; }

    /// <summary>The queue name.</summary>
    public string Queue { get; }

    /// <summary>How many partitions the queue has.</summary>
    public int Partitions { get; }

    /// <summary>How many priority levels the queue has (1: no priorities).</summary>
    public int Levels { get; }

    /// <summary>The hash tag of a partition, braces included.</summary>
    public string Tag(int partition) => $"{{{Queue}:{partition}}}";

    /// <summary>The stream of a partition at a priority level (level 0, the lowest, is the plain stream).</summary>
    public string Stream(int partition, int level = 0) => level == 0 ? _streams[partition] : $"{_streams[partition]}:{level}";

    /// <summary>The streams of a partition, one per level, lowest first.</summary>
    public string[] LevelStreams(int partition) => Enumerable.Range(0, Levels).Select(l => Stream(partition, l)).ToArray();

    /// <summary>The level a message of <paramref name="priority"/> goes to: the priority, clamped to the levels.</summary>
    public int LevelOf(int priority) => Math.Clamp(priority, 0, Levels - 1);

    /// <summary>The level-0 streams of all partitions.</summary>
    public IReadOnlyList<string> Streams => _streams;

    /// <summary>The dedup marker of a key in a partition.</summary>
    public string Dedup(int partition, string dedupKey) => $"{Prefix}:{Tag(partition)}:dedup:{dedupKey}";

    /// <summary>Delayed messages of a partition: a sorted set of members scored by due time (Unix ms).</summary>
    public string Delayed(int partition) => $"{Prefix}:{Tag(partition)}:delayed";

    /// <summary>The bodies of a partition's delayed messages: a hash from member to encoded fields.</summary>
    public string DelayedBodies(int partition) => $"{Prefix}:{Tag(partition)}:delayed:bodies";

    /// <summary>The dead-letter stream of a partition.</summary>
    public string Dead(int partition) => $"{Prefix}:{Tag(partition)}:dead";

    /// <summary>Stopped messages of a partition, parked out of the stream: a hash from message id to encoded fields.</summary>
    public string Parked(int partition) => $"{Prefix}:{Tag(partition)}:parked";

    /// <summary>Cron fire markers of a partition (one per job and tick, with a TTL).</summary>
    public string CronFired(int partition, string job, long tickMs) => $"{Prefix}:{Tag(partition)}:cron:{job}:{tickMs}";

    /// <summary>Index of a partition's expiring markers (dedup, cron): a sorted set of keys scored by expiry, so terminate can find them.</summary>
    public string Markers(int partition) => $"{Prefix}:{Tag(partition)}:markers";

    /// <summary>Every fixed key of a partition that Millrace writes (terminate also deletes the markers listed in <see cref="Markers"/>).</summary>
    public IEnumerable<string> PartitionKeys(int partition) =>
        [.. LevelStreams(partition), .. LevelStreams(partition).Select(RetentionScripts.IdleGroups), Delayed(partition), DelayedBodies(partition), Dead(partition), Parked(partition), Markers(partition)];

    /// <summary>The queue's control state (paused, paused types): a hash read by every worker.</summary>
    public string Control => $"{Prefix}:control:{Queue}";

    /// <summary>Ids of messages stopped by an operator: a set.</summary>
    public string Stopped => $"{Prefix}:stopped:{Queue}";

    /// <summary>Circuit breaker states of the queue's message types, as workers report them: a hash.</summary>
    public string Breakers => $"{Prefix}:breakers:{Queue}";

    /// <summary>The pub/sub channel on which control changes and delayed wake-ups are announced.</summary>
    public string Events => $"{Prefix}:events:{Queue}";

    /// <summary>The queue's description (partition count, creation time); outside any partition's slot.</summary>
    public string Meta => $"{Prefix}:queue:{Queue}";

    /// <summary>The set of all queue names under this prefix.</summary>
    public static string Registry(string prefix) => $"{prefix}:queues";
}
