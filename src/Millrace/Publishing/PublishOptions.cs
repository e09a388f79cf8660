namespace Millrace;

/// <summary>Options for publishing a typed message (see <see cref="OutgoingMessage"/> for their meaning).</summary>
public sealed class PublishOptions
{
    /// <summary>Headers to carry.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Priority.</summary>
    public int Priority { get; init; }

    /// <summary>Tenant.</summary>
    public string? Tenant { get; init; }

    /// <summary>Partition key: same key, same partition, in order.</summary>
    public string? PartitionKey { get; init; }

    /// <summary>Dedup key.</summary>
    public string? DedupKey { get; init; }

    /// <summary>How long the dedup key is remembered.</summary>
    public TimeSpan? DedupTtl { get; init; }

    /// <summary>Deliver no sooner than this long from now.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Deliver no sooner than this time.</summary>
    public DateTimeOffset? DeliverAt { get; init; }

    /// <summary>A message id chosen by the caller.</summary>
    public string? Id { get; init; }

    /// <summary>The type name to publish under, instead of the class's.</summary>
    public string? Type { get; init; }
}
