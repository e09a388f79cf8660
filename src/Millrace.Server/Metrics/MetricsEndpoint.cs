using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace.Server;

/// <summary>
/// <c>GET /metrics</c>: this process's Millrace instruments, plus gauges read from Redis at scrape
/// time for every queue (length, lag, pending, delayed, parked, dead letters, oldest pending age)
/// and the live workers. When Redis does not answer, <c>millrace_redis_up</c> is 0 and the queue
/// gauges are left out rather than reported as zeros.
/// </summary>
internal static partial class MetricsEndpoint
{
    public static async Task<IResult> ScrapeAsync(MillraceMetricsExporter exporter, MillraceAdmin admin, ILoggerFactory logs, CancellationToken ct)
    {
        var text = new PrometheusText();
        exporter.Write(text);
        try
        {
            var queues = new List<QueueInfo>();
            foreach (var name in await admin.QueueNamesAsync(ct).ConfigureAwait(false))
            {
                if (await admin.QueueInfoAsync(name, ct).ConfigureAwait(false) is { } info)
                {
                    queues.Add(info);
                }
            }

            var workers = await admin.WorkersAsync(ct).ConfigureAwait(false);
            Gauge(text, "millrace_queue_length", "Entries in the queue's streams (all partitions and priority levels).", queues, q => q.Length);
            Gauge(text, "millrace_queue_pending", "Entries delivered to consumers and not yet acknowledged (all groups).", queues, q => q.Groups.Sum(g => g.Pending));
            Gauge(text, "millrace_queue_delayed", "Messages waiting for their time (delays and retries).", queues, q => q.Delayed);
            Gauge(text, "millrace_queue_parked", "Messages parked out of the stream (stopped, or of a paused type).", queues, q => q.Parked);
            Gauge(text, "millrace_queue_dead_letters", "Entries in the queue's dead-letter streams.", queues, q => q.DeadLetters);
            Gauge(text, "millrace_queue_paused", "1 when the queue is paused.", queues, q => q.Paused ? 1 : 0);
            Gauge(text, "millrace_queue_oldest_pending_age_seconds", "Age of the oldest delivered but unacknowledged entry (0 when none).", queues, q => q.OldestPendingAge?.TotalSeconds ?? 0);
            text.Family("millrace_group_lag", "gauge", "Entries not yet delivered to a consumer group (absent when Redis cannot tell).");
            foreach (var q in queues)
            {
                foreach (var g in q.Groups.Where(g => g.Lag is not null))
                {
                    text.Sample("millrace_group_lag", [new("group", g.Name), new("queue", q.Name)], g.Lag!.Value);
                }
            }

            text.Family("millrace_group_pending", "gauge", "Entries a consumer group holds unacknowledged.");
            foreach (var q in queues)
            {
                foreach (var g in q.Groups)
                {
                    text.Sample("millrace_group_pending", [new("group", g.Name), new("queue", q.Name)], g.Pending);
                }
            }

            text.Family("millrace_workers", "gauge", "Worker processes that reported a heartbeat recently.");
            text.Sample("millrace_workers", [], workers.Count);
            text.Family("millrace_redis_up", "gauge", "1 when Redis answered this scrape.");
            text.Sample("millrace_redis_up", [], 1);
        }
        catch (RedisException e)
        {
            LogRedisDown(logs.CreateLogger("Millrace.Server.Metrics"), e.Message);
            text.Family("millrace_redis_up", "gauge", "1 when Redis answered this scrape.");
            text.Sample("millrace_redis_up", [], 0);
        }

        return TypedResults.Text(text.ToString(), PrometheusText.ContentType);
    }

    private static void Gauge(PrometheusText text, string name, string help, List<QueueInfo> queues, Func<QueueInfo, double> value)
    {
        text.Family(name, "gauge", help);
        foreach (var q in queues)
        {
            text.Sample(name, [new("queue", q.Name)], value(q));
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "/metrics: Redis did not answer, queue gauges left out of this scrape: {Error}")]
    private static partial void LogRedisDown(ILogger log, string error);
}
