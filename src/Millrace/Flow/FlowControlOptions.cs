namespace Millrace;

/// <summary>How concurrency and rate limits are enforced (the limits themselves are set at runtime through <see cref="MillraceAdmin"/>).</summary>
public sealed class FlowControlOptions
{
    /// <summary>
    /// How long a concurrency permit lasts without renewal. Running handlers renew their permits every
    /// third of it; the permits of a worker that dies come back within this time.
    /// </summary>
    public TimeSpan ConcurrencyLeaseTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a worker rereads which types and tenants have limits. A limit that changes is applied
    /// at once by the next permit or token taken; a type that gets its first limit is noticed within this time.
    /// </summary>
    public TimeSpan LimitsRefresh { get; set; } = TimeSpan.FromMilliseconds(500);
}
