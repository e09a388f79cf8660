using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Millrace.Server;

/// <summary>
/// Collects the "Millrace" meter's measurements in this process with a <see cref="MeterListener"/>
/// and renders them as Prometheus text: counters as <c>_total</c>, histograms as cumulative
/// <c>_bucket{le=...}</c>, <c>_sum</c> and <c>_count</c> (unit "s" adds <c>_seconds</c>), names
/// with '.' turned to '_'. Only meters created by this app's <see cref="IMeterFactory"/> are read,
/// so two apps in one process (tests) do not mix their numbers; meters made without a factory
/// (process-wide ones, such as retention's) are read too.
/// </summary>
internal sealed class MillraceMetricsExporter : IDisposable
{
    /// <summary>Bucket bounds in seconds (Prometheus client defaults, plus finer low end for fast handlers).</summary>
    public static readonly double[] Bounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Instrument Instrument, string Tags), Series> _series = new();
    private readonly object? _scope;

    public MillraceMetricsExporter(IMeterFactory? meters)
    {
        _scope = meters;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Meters without a scope are process-wide by design (retention's counter): they belong to every app of the process.
            if (instrument.Meter.Name == MillraceTelemetry.Name && (_scope is null || instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, _scope)))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, m, tags, _) => Record(i, m, tags));
        _listener.SetMeasurementEventCallback<int>((i, m, tags, _) => Record(i, m, tags));
        _listener.SetMeasurementEventCallback<double>((i, m, tags, _) => Record(i, m, tags));
        _listener.Start();
    }

    /// <summary>Raised for every histogram measurement (seconds), for the dashboard's live latency.</summary>
    public event Action<string, double>? HistogramRecorded;

    /// <summary>The current sum of a counter over all its label sets whose labels include <paramref name="label"/> (or all).</summary>
    public double CounterTotal(string instrumentName, KeyValuePair<string, string>? label = null) =>
        _series.Where(s => s.Key.Instrument.Name == instrumentName && (label is null || s.Value.Labels.Contains(label.Value)))
            .Sum(s => s.Value.Sum);

    public void Write(PrometheusText text)
    {
        _listener.RecordObservableInstruments();
        foreach (var group in _series.GroupBy(s => s.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = group.Key;
            var baseName = PrometheusText.Name(instrument.Name);
            var help = instrument.Description ?? instrument.Name;
            switch (instrument)
            {
                case Histogram<double> or Histogram<long> or Histogram<int>:
                    var name = baseName + (instrument.Unit == "s" && !baseName.EndsWith("_seconds", StringComparison.Ordinal) ? "_seconds" : "");
                    text.Family(name, "histogram", help);
                    foreach (var series in group.Select(g => g.Value).OrderBy(s => s.Key, StringComparer.Ordinal))
                    {
                        var (counts, sum, count) = series.Snapshot();
                        long cumulative = 0;
                        for (var b = 0; b < Bounds.Length; b++)
                        {
                            cumulative += counts[b];
                            text.Sample(name + "_bucket", [.. series.Labels, new("le", PrometheusText.Number(Bounds[b]))], cumulative);
                        }

                        text.Sample(name + "_bucket", [.. series.Labels, new("le", "+Inf")], count);
                        text.Sample(name + "_sum", series.Labels, sum);
                        text.Sample(name + "_count", series.Labels, count);
                    }

                    break;
                case Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<double>:
                    var total = baseName.EndsWith("_total", StringComparison.Ordinal) ? baseName : baseName + "_total";
                    text.Family(total, "counter", help);
                    foreach (var series in group.Select(g => g.Value).OrderBy(s => s.Key, StringComparer.Ordinal))
                    {
                        text.Sample(total, series.Labels, series.Sum);
                    }

                    break;
                default:   // up-down counters and gauges
                    text.Family(baseName, "gauge", help);
                    foreach (var series in group.Select(g => g.Value).OrderBy(s => s.Key, StringComparer.Ordinal))
                    {
                        text.Sample(baseName, series.Labels, series.Sum);
                    }

                    break;
            }
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = new List<KeyValuePair<string, string>>(tags.Length);
        foreach (var tag in tags)
        {
            labels.Add(new(PrometheusText.Name(tag.Key, label: true), Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? ""));
        }

        labels.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var key = string.Join('\u0001', labels.Select(l => l.Key + "=" + l.Value));
        var series = _series.GetOrAdd((instrument, key), k => new Series(k.Tags, labels));
        switch (instrument)
        {
            case Histogram<double> or Histogram<long> or Histogram<int>:
                series.Observe(value);
                HistogramRecorded?.Invoke(instrument.Name, value);
                break;
            case ObservableGauge<long> or ObservableGauge<double> or ObservableGauge<int> or ObservableCounter<long> or ObservableCounter<double>:
                series.Set(value);   // observable instruments report their current value
                break;
            default:
                series.Add(value);
                break;
        }
    }

    private sealed class Series(string key, List<KeyValuePair<string, string>> labels)
    {
        private readonly long[] _buckets = new long[Bounds.Length];
        private readonly object _gate = new();
        private double _sum;
        private long _count;

        public string Key { get; } = key;

        public IReadOnlyList<KeyValuePair<string, string>> Labels { get; } = labels;

        public double Sum
        {
            get
            {
                lock (_gate)
                {
                    return _sum;
                }
            }
        }

        public void Add(double value)
        {
            lock (_gate)
            {
                _sum += value;
            }
        }

        public void Set(double value)
        {
            lock (_gate)
            {
                _sum = value;
            }
        }

        public void Observe(double value)
        {
            var bucket = Array.BinarySearch(Bounds, value);
            bucket = bucket >= 0 ? bucket : ~bucket;   // first bound >= value (le is inclusive)
            lock (_gate)
            {
                if (bucket < _buckets.Length)
                {
                    _buckets[bucket]++;
                }

                _sum += value;
                _count++;
            }
        }

        public (long[] Counts, double Sum, long Count) Snapshot()
        {
            lock (_gate)
            {
                return ((long[])_buckets.Clone(), _sum, _count);
            }
        }
    }
}
