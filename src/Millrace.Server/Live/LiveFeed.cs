using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Millrace.Redis;

namespace Millrace.Server;

/// <summary>
/// Samples throughput, latency and backlog every <see cref="MillraceServerOptions.SampleInterval"/>
/// and fans the samples out to the dashboard's server-sent-event streams; keeps the last 300.
/// Throughput comes from the per-minute statistics every process flushes to Redis each second, so
/// it counts workers in other processes too.
/// </summary>
internal sealed partial class LiveFeed : BackgroundService
{
    private const int HistoryLength = 300;

    private readonly MillraceAdmin _admin;
    private readonly MillraceMetricsExporter _exporter;
    private readonly TimeProvider _time;
    private readonly ILogger<LiveFeed> _log;
    private readonly TimeSpan _interval;
    private readonly LinkedList<LiveSample> _history = new();
    private readonly List<Channel<LiveSample>> _subscribers = [];
    private readonly object _gate = new();
    private readonly List<double> _handler = [];
    private readonly List<double> _latency = [];
    private Dictionary<DateTimeOffset, StatsBucket>? _previous;
    private bool _redisWasUp = true;

    public LiveFeed(MillraceAdmin admin, MillraceMetricsExporter exporter, TimeProvider time, IOptions<MillraceServerOptions> options, ILogger<LiveFeed> log)
    {
        _admin = admin;
        _exporter = exporter;
        _time = time;
        _log = log;
        _interval = options.Value.SampleInterval;
        _exporter.HistogramRecorded += OnHistogram;
    }

    public IReadOnlyList<LiveSample> History()
    {
        lock (_gate)
        {
            return [.. _history];
        }
    }

    public ChannelReader<LiveSample> Subscribe(CancellationToken unsubscribe)
    {
        var channel = Channel.CreateBounded<LiveSample>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_gate)
        {
            _subscribers.Add(channel);
        }

        unsubscribe.Register(() =>
        {
            lock (_gate)
            {
                _subscribers.Remove(channel);
            }

            channel.Writer.TryComplete();
        });
        return channel.Reader;
    }

    public override void Dispose()
    {
        _exporter.HistogramRecorded -= OnHistogram;
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var sample = await SampleAsync(stoppingToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _history.AddLast(sample);
                    if (_history.Count > HistoryLength)
                    {
                        _history.RemoveFirst();
                    }

                    foreach (var subscriber in _subscribers)
                    {
                        subscriber.Writer.TryWrite(sample);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task<LiveSample> SampleAsync(CancellationToken ct)
    {
        double[] handler, latency;
        lock (_gate)
        {
            handler = [.. _handler];
            latency = [.. _latency];
            _handler.Clear();
            _latency.Clear();
        }

        var seconds = _interval.TotalSeconds;
        var now = _time.GetUtcNow();
        try
        {
            var buckets = (await _admin.StatsAsync(null, 2, ct).ConfigureAwait(false)).ToDictionary(b => b.Minute);
            double Rate(Func<StatsBucket, long> field) =>
                _previous is null ? 0 : buckets.Sum(b => Math.Max(0, field(b.Value) - (_previous.TryGetValue(b.Key, out var p) ? field(p) : 0))) / seconds;
            var (published, processed, failed, retried, dead) = (Rate(b => b.Published), Rate(b => b.Processed), Rate(b => b.Failed), Rate(b => b.Retried), Rate(b => b.DeadLettered));
            _previous = buckets;

            long length = 0, pending = 0, delayed = 0, deadLetters = 0;
            foreach (var name in await _admin.QueueNamesAsync(ct).ConfigureAwait(false))
            {
                if (await _admin.QueueInfoAsync(name, ct).ConfigureAwait(false) is { } q)
                {
                    length += q.Length;
                    pending += q.Groups.Sum(g => g.Pending);
                    delayed += q.Delayed;
                    deadLetters += q.DeadLetters;
                }
            }

            var workers = (await _admin.WorkersAsync(ct).ConfigureAwait(false)).Count;
            if (!_redisWasUp)
            {
                LogRedisBack(_log);
                _redisWasUp = true;
            }

            return new LiveSample(now, published, processed, failed, retried, dead,
                Percentile(handler, 0.5), Percentile(handler, 0.95), Percentile(latency, 0.5), Percentile(latency, 0.95),
                length, pending, delayed, deadLetters, workers, true);
        }
        catch (RedisException e)
        {
            if (_redisWasUp)
            {
                LogRedisDown(_log, e.Message);
                _redisWasUp = false;
            }

            _previous = null;
            return new LiveSample(now, 0, 0, 0, 0, 0, Percentile(handler, 0.5), Percentile(handler, 0.95), Percentile(latency, 0.5), Percentile(latency, 0.95), 0, 0, 0, 0, 0, false);
        }
    }

    private void OnHistogram(string instrument, double seconds)
    {
        lock (_gate)
        {
            var list = instrument == "millrace.handler.duration" ? _handler : instrument == "millrace.message.latency" ? _latency : null;
            if (list is { Count: < 100_000 })
            {
                list.Add(seconds * 1000);
            }
        }
    }

    private static double? Percentile(double[] values, double p)
    {
        if (values.Length == 0)
        {
            return null;
        }

        Array.Sort(values);
        return values[Math.Clamp((int)Math.Ceiling(p * values.Length) - 1, 0, values.Length - 1)];
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Live feed: Redis did not answer; the dashboard shows the outage until it does: {Error}")]
    private static partial void LogRedisDown(ILogger log, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Live feed: Redis answers again.")]
    private static partial void LogRedisBack(ILogger log);
}
