using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Millrace;

/// <summary>
/// Millrace's metrics (System.Diagnostics.Metrics, meter <c>Millrace</c>) and traces (ActivitySource
/// <c>Millrace</c>). Every instrument is tagged with the queue; consumer-side ones also with group and type.
/// </summary>
public sealed class MillraceTelemetry : IDisposable
{
    /// <summary>The meter and activity source name.</summary>
    public const string Name = "Millrace";

    private readonly Meter _meter;

    /// <summary>
    /// Creates the instruments on a meter from <paramref name="meters"/> (or a private one). With a
    /// <paramref name="namespace"/>, the meter carries the tag <c>millrace.namespace</c>, so one tenant's
    /// measurements are told apart from another's wherever they are exported.
    /// </summary>
    public MillraceTelemetry(IMeterFactory? meters = null, string? @namespace = null)
    {
        var options = new MeterOptions(Name)
        {
            Tags = string.IsNullOrEmpty(@namespace) ? null : [new KeyValuePair<string, object?>("millrace.namespace", @namespace)],
        };
        _meter = meters?.Create(options) ?? new Meter(options);
        Published = _meter.CreateCounter<long>("millrace.messages.published", "{message}", "Messages added to a queue.");
        Processed = _meter.CreateCounter<long>("millrace.messages.processed", "{message}", "Messages whose handler succeeded and that were acknowledged.");
        Failed = _meter.CreateCounter<long>("millrace.messages.failed", "{message}", "Handler runs that threw or timed out, and messages that could not be read.");
        Retried = _meter.CreateCounter<long>("millrace.messages.retried", "{message}", "Failed messages scheduled for another attempt.");
        DeadLettered = _meter.CreateCounter<long>("millrace.messages.dead_lettered", "{message}", "Messages moved to the dead-letter queue.");
        CircuitChanges = _meter.CreateCounter<long>("millrace.circuit.changes", "{change}", "Circuit breaker state changes, tagged with the new state (Open, HalfOpen, Closed).");
        Reclaimed = _meter.CreateCounter<long>("millrace.messages.reclaimed", "{message}", "Messages taken over from consumers that stopped renewing their lease.");
        HandlerDuration = _meter.CreateHistogram<double>("millrace.handler.duration", "s", "How long handlers ran.");
        EndToEndLatency = _meter.CreateHistogram<double>("millrace.message.latency", "s", "From publish (created_at) to handler start.");
    }

    /// <summary>The source of Millrace's activities (publish: Producer; process: Consumer).</summary>
    public static ActivitySource Activities { get; } = new(Name);

    internal Counter<long> Published { get; }
    internal Counter<long> Processed { get; }
    internal Counter<long> Failed { get; }
    internal Counter<long> Reclaimed { get; }
    internal Counter<long> Retried { get; }
    internal Counter<long> CircuitChanges { get; }
    internal Counter<long> DeadLettered { get; }
    internal Histogram<double> HandlerDuration { get; }
    internal Histogram<double> EndToEndLatency { get; }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
