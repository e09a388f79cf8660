namespace Millrace;

/// <summary>What a cron job does when it missed ticks (every instance was down, or the process stalled).</summary>
public enum MisfirePolicy
{
    /// <summary>Fire once for the missed ticks (the latest of them), if it is within the misfire window (default).</summary>
    FireOnce,
    /// <summary>Skip missed ticks; fire again at the next one.</summary>
    Skip,
}

/// <summary>A message published on a cron schedule: exactly one per tick across all instances.</summary>
public sealed class CronJobOptions
{
    /// <summary>The job's name (unique per queue); part of each tick's dedup key.</summary>
    public string Name { get; set; } = "";

    /// <summary>A 5- or 6-field cron expression (see <see cref="CronExpression"/>).</summary>
    public string Schedule { get; set; } = "";

    /// <summary>The time zone the schedule is read in.</summary>
    public TimeZoneInfo TimeZone { get; set; } = TimeZoneInfo.Utc;

    /// <summary>The queue each tick's message goes to.</summary>
    public string Queue { get; set; } = "";

    /// <summary>The message type.</summary>
    public string Type { get; set; } = "";

    /// <summary>The message payload.</summary>
    public ReadOnlyMemory<byte> Payload { get; set; }

    /// <summary>What to do about missed ticks.</summary>
    public MisfirePolicy Misfire { get; set; } = MisfirePolicy.FireOnce;

    /// <summary>How late a tick may still be fired (by the <see cref="MisfirePolicy.FireOnce"/> catch-up, or by an instance that woke late).</summary>
    public TimeSpan MisfireWindow { get; set; } = TimeSpan.FromMinutes(5);
}
