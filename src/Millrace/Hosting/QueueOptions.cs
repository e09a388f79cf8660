namespace Millrace;

/// <summary>How one queue is laid out and capped.</summary>
public sealed class QueueOptions
{
    internal static QueueOptions Default { get; } = new();

    /// <summary>Partitions (default 1). Each is a stream with its own hash tag, so on Cluster they spread over shards.</summary>
    public int Partitions { get; set; } = 1;

    /// <summary>
    /// Approximate cap on each partition's length. When a partition grows past it, the oldest entries
    /// that every group has acknowledged are trimmed (checked at most once a second, during publishes).
    /// Entries some group has not acknowledged are kept unless <see cref="MaxLengthDropsUnacknowledged"/>.
    /// </summary>
    public long? MaxLength { get; set; }

    /// <summary>Let <see cref="MaxLength"/> trim entries no matter who has read them (plain <c>MAXLEN ~</c>). Loses unprocessed messages: off by default.</summary>
    public bool MaxLengthDropsUnacknowledged { get; set; }
}
