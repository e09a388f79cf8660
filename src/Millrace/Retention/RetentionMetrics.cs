using System.Diagnostics.Metrics;

namespace Millrace;

/// <summary>
/// The retention counter, on its own meter named <see cref="MillraceTelemetry.Name"/> (listeners and
/// exporters that follow the <c>Millrace</c> meter see it with the others). The admin API cleans
/// without access to the DI meter factory, so this meter is created once per process.
/// </summary>
internal static class RetentionMetrics
{
    private static readonly Meter Meter = new(MillraceTelemetry.Name);

    /// <summary>Entries deleted by retention, tagged with the queue.</summary>
    public static readonly Counter<long> Deleted =
        Meter.CreateCounter<long>("millrace.retention.deleted", "{entry}", "Stream entries deleted by retention (acknowledged by every active group and past the policy).");
}
