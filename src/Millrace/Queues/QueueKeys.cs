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
    public QueueKeys(string prefix, string queue, int partitions)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        QueueName.Validate(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partitions, 1024);
        Prefix = prefix;
        Queue = queue;
        Partitions = partitions;
        _streams = Enumerable.Range(0, partitions).Select(p => $"{prefix}:{Tag(p)}:stream").ToArray();
    }

    private readonly string[] _streams;

    /// <summary>The key prefix (a namespace).</summary>
    public string Prefix { get; }

    /// <summary>The queue name.</summary>
    public string Queue { get; }

    /// <summary>How many partitions the queue has.</summary>
    public int Partitions { get; }

    /// <summary>The hash tag of a partition, braces included.</summary>
    public string Tag(int partition) => $"{{{Queue}:{partition}}}";

    /// <summary>The stream of a partition.</summary>
    public string Stream(int partition) => _streams[partition];

    /// <summary>The streams of all partitions.</summary>
    public IReadOnlyList<string> Streams => _streams;

    /// <summary>The dedup marker of a key in a partition.</summary>
    public string Dedup(int partition, string dedupKey) => $"{Prefix}:{Tag(partition)}:dedup:{dedupKey}";

    /// <summary>The queue's description (partition count, creation time); outside any partition's slot.</summary>
    public string Meta => $"{Prefix}:queue:{Queue}";

    /// <summary>The set of all queue names under this prefix.</summary>
    public static string Registry(string prefix) => $"{prefix}:queues";
}
