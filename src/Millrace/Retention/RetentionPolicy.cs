using System.ComponentModel;
using System.Globalization;

namespace Millrace;

/// <summary>
/// How long a queue keeps entries that every consumer group has acknowledged. An entry is deleted
/// only when every active group has acknowledged it, it is older than <see cref="MaxAge"/>, and it
/// is not among the newest <see cref="MinCount"/> entries of its stream. Unacknowledged entries of
/// active groups are never deleted (see docs/retention.md for inactive groups).
/// </summary>
/// <remarks>
/// Four retention classes are named presets: <see cref="Critical"/>, <see cref="High"/>,
/// <see cref="Normal"/> and <see cref="Low"/>. In configuration, a queue's policy is either a class
/// name (<c>"Millrace:Queues:orders:Retention": "high"</c>) or its two values
/// (<c>Millrace:Queues:orders:Retention:MaxAge</c> = <c>2.00:00:00</c>, <c>...:MinCount</c> = <c>500</c>);
/// unset values are those of <see cref="Normal"/>.
/// </remarks>
/// <example>
/// <code>
/// services.AddMillrace(o => o.Redis = "127.0.0.1:6379")
///     .AddQueue("orders", q => q.Retention = RetentionPolicy.High)
///     .AddQueue("thumbnails", q => q.Retention = new RetentionPolicy { MaxAge = TimeSpan.FromMinutes(10), MinCount = 0 });
/// </code>
/// </example>
[TypeConverter(typeof(RetentionPolicyConverter))]
public sealed class RetentionPolicy
{
    /// <summary>The retention class names <see cref="FromName"/> accepts.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["critical", "high", "normal", "low"];

    /// <summary>How long acknowledged entries are kept, judged by the time in their id (when Redis added them). Default: 1 hour.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many of the newest entries of each stream are always kept, whatever their age. Default: 1,000.</summary>
    public int MinCount { get; set; } = 1000;

    /// <summary>Critical: acknowledged entries kept 7 days, and at least the newest 100,000.</summary>
    public static RetentionPolicy Critical => new() { MaxAge = TimeSpan.FromDays(7), MinCount = 100_000 };

    /// <summary>High: acknowledged entries kept 24 hours, and at least the newest 10,000.</summary>
    public static RetentionPolicy High => new() { MaxAge = TimeSpan.FromHours(24), MinCount = 10_000 };

    /// <summary>Normal (the default): acknowledged entries kept 1 hour, and at least the newest 1,000.</summary>
    public static RetentionPolicy Normal => new() { MaxAge = TimeSpan.FromHours(1), MinCount = 1000 };

    /// <summary>Low: acknowledged entries kept 5 minutes; none kept for their count alone.</summary>
    public static RetentionPolicy Low => new() { MaxAge = TimeSpan.FromMinutes(5), MinCount = 0 };

    /// <summary>The preset of a retention class: <c>critical</c>, <c>high</c>, <c>normal</c> or <c>low</c> (any case).</summary>
    /// <exception cref="ArgumentException">The name is not one of the four classes.</exception>
    public static RetentionPolicy FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToUpperInvariant() switch
        {
            "CRITICAL" => Critical,
            "HIGH" => High,
            "NORMAL" => Normal,
            "LOW" => Low,
            _ => throw new ArgumentException(
                $"'{name}' is not a retention class; use one of {string.Join(", ", ClassNames)}, or give MaxAge and MinCount.", nameof(name)),
        };
    }

    /// <summary>What is wrong with the values, each naming the setting under <paramref name="path"/>; empty when valid.</summary>
    internal IEnumerable<string> Problems(string path)
    {
        if (MaxAge < TimeSpan.Zero)
        {
            yield return $"{path}:MaxAge is {MaxAge}; it must be zero or more.";
        }

        if (MinCount < 0)
        {
            yield return $"{path}:MinCount is {MinCount}; it must be zero or more.";
        }
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"MaxAge {MaxAge}, MinCount {MinCount}");
}
