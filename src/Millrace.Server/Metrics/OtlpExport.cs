using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Millrace.Server;

/// <summary>
/// Exports the <c>Millrace</c> meter and activity source over OTLP when
/// <c>Millrace:Server:Otlp:Endpoint</c> is set. The providers live from start to stop of the host
/// (the hosting integration package is not available, so this service owns them); stopping flushes.
/// </summary>
internal sealed class OtlpExport(IOptions<MillraceServerOptions> options) : IHostedService, IDisposable
{
    private MeterProvider? _meters;
    private TracerProvider? _traces;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var otlp = options.Value.Otlp;
        if (otlp.Endpoint is not { } endpoint)
        {
            return Task.CompletedTask;
        }

        var protocol = otlp.Protocol == "Grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        Uri Signal(string path) => protocol == OtlpExportProtocol.Grpc ? endpoint : new Uri(endpoint, path);
        _meters = Sdk.CreateMeterProviderBuilder()
            .AddMeter(MillraceTelemetry.Name)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = Signal("v1/metrics");
                exporter.Protocol = protocol;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)otlp.MetricsInterval.TotalMilliseconds;
            })
            .Build();
        if (otlp.Traces)
        {
            _traces = Sdk.CreateTracerProviderBuilder()
                .AddSource(MillraceTelemetry.Name)
                // The server's own HTTP requests are the roots of API publishes: without them the publish
                // activity's parent (an unsampled request activity) would make the sampler drop it.
                .AddSource("Microsoft.AspNetCore")
                .AddOtlpExporter(exporter =>
                {
                    exporter.Endpoint = Signal("v1/traces");
                    exporter.Protocol = protocol;
                })
                .Build();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _meters?.ForceFlush(5000);
        _traces?.ForceFlush(5000);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _meters?.Dispose();
        _traces?.Dispose();
    }
}
