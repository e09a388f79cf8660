namespace Millrace;

/// <summary>
/// How the retention sweep runs (<c>Millrace:Retention</c>). Which queues it cleans, and how much
/// they keep, is each queue's <see cref="QueueOptions.Retention"/>.
/// </summary>
public sealed class RetentionOptions
{
    /// <summary>How often the background sweep cleans the queues that have a retention policy. Default: 1 minute.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The most entries one script call deletes (default 1,000). A call holds Redis for its whole
    /// run; the sweep calls again while full batches are being deleted, so other clients get turns.
    /// </summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>
    /// A consumer group whose consumers have all been idle this long (or that has no consumer and
    /// delivered nothing for this long) is inactive and no longer pins its stream: entries it has not
    /// acknowledged may be deleted once they are older than the policy's MaxAge. Default: 24 hours;
    /// null never treats a group as inactive (a stalled group then keeps every entry it has not acknowledged).
    /// </summary>
    public TimeSpan? InactiveGroupTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>What is wrong with the values, each naming the setting; empty when valid.</summary>
    internal IEnumerable<string> Problems()
    {
        if (Interval < TimeSpan.FromMilliseconds(10))
        {
            yield return $"Millrace:Retention:Interval is {Interval}; it must be at least 10 ms.";
        }

        if (BatchSize is < 1 or > 100_000)
        {
            yield return $"Millrace:Retention:BatchSize is {BatchSize}; allowed 1 to 100000.";
        }

        if (InactiveGroupTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            yield return $"Millrace:Retention:InactiveGroupTimeout is {timeout}; it must be positive (or unset to never ignore a group).";
        }
    }
}
