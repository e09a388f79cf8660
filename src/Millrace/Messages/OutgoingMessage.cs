namespace Millrace;

/// <summary>A message to publish: where it goes, what it is, and how it is routed and deduplicated.</summary>
public sealed class OutgoingMessage
{
    /// <summary>The queue to publish to.</summary>
    public required string Queue { get; init; }

    /// <summary>The message type (selects the handler), e.g. <c>order.created</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The payload bytes.</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>Headers carried with the message (trace context is added here).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Priority; 0 when not set.</summary>
    public int Priority { get; init; }

    /// <summary>The tenant the message belongs to.</summary>
    public string? Tenant { get; init; }

    /// <summary>Messages with the same partition key go to the same partition, in order. Without one, partitions are used in turn.</summary>
    public string? PartitionKey { get; init; }

    /// <summary>
    /// A deduplication key: while its marker lives (<see cref="DedupTtl"/>), publishing another message
    /// with the same key adds nothing and returns the first message's id. It also routes the message
    /// (when no partition key is given), so duplicates always meet in one partition.
    /// </summary>
    public string? DedupKey { get; init; }

    /// <summary>How long a dedup key is remembered; the publisher's default (24 h) when null.</summary>
    public TimeSpan? DedupTtl { get; init; }

    /// <summary>Deliver no sooner than this long from now (millisecond precision).</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Deliver no sooner than this time (millisecond precision); wins over <see cref="Delay"/>.</summary>
    public DateTimeOffset? DeliverAt { get; init; }

    /// <summary>A message id chosen by the caller (kept through replays); a new UUIDv7 when null.</summary>
    public string? Id { get; init; }

    /// <summary>
    /// This message with its id, due time and dedup settings replaced; a relative <see cref="Delay"/> is
    /// not carried over (callers pass the absolute <paramref name="deliverAt"/> it resolves to).
    /// </summary>
    internal OutgoingMessage With(string? id, DateTimeOffset? deliverAt, string? dedupKey, TimeSpan? dedupTtl) => new()
    {
        Queue = Queue,
        Type = Type,
        Payload = Payload,
        Headers = Headers,
        Priority = Priority,
        Tenant = Tenant,
        PartitionKey = PartitionKey,
        Id = id,
        DeliverAt = deliverAt,
        DedupKey = dedupKey,
        DedupTtl = dedupTtl,
    };
}
