namespace Millrace;

/// <summary>What an alert rule watches.</summary>
public enum AlertMetric
{
    /// <summary>Messages not yet handled by a group: its lag plus its pending entries (the largest over the queue's groups).</summary>
    Backlog,

    /// <summary>Seconds since the oldest delivered but unacknowledged entry was added.</summary>
    OldestPendingAge,

    /// <summary>Failed handler runs over all runs in the window, 0 to 1 (only with at least <see cref="AlertOptions.MinimumRuns"/> runs).</summary>
    FailureRate,

    /// <summary>Messages dead-lettered within the window.</summary>
    DeadLetterGrowth,
}

/// <summary>One threshold: the alert fires when the metric goes above it, and resolves when it is back at or below it.</summary>
public sealed class AlertRule
{
    /// <summary>The metric watched.</summary>
    public AlertMetric Metric { get; set; }

    /// <summary>The value above which the alert fires.</summary>
    public double Threshold { get; set; }

    /// <summary>The queue watched; null watches every queue of the namespace.</summary>
    public string? Queue { get; set; }
}

/// <summary>
/// Alerts sent to a webhook as a generic JSON body when a threshold is crossed (and when it clears).
/// One process of the namespace evaluates them at a time (a lease in Redis), so a crossing is sent once.
/// </summary>
public sealed class AlertOptions
{
    /// <summary>Where alerts are POSTed; null turns alerts off.</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>The thresholds.</summary>
    public IList<AlertRule> Rules { get; } = new List<AlertRule>();

    /// <summary>How often the rules are evaluated.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The window of <see cref="AlertMetric.FailureRate"/> and <see cref="AlertMetric.DeadLetterGrowth"/> (whole minutes).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The fewest handler runs in the window for a failure rate to count.</summary>
    public int MinimumRuns { get; set; } = 20;

    /// <summary>How long the webhook may take to answer.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
