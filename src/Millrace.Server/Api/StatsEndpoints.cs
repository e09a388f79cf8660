using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Millrace.Server;

/// <summary>The seeds' read endpoints: <c>/api/stats</c>, <c>/api/v1/stats</c>, <c>/api/v1/stream</c>, <c>/api/v1/workers</c> (viewer).</summary>
internal static class StatsEndpoints
{
    public static void Map(RouteGroupBuilder root, RouteGroupBuilder api)
    {
        // Seed 000: the dashboard's JSON statistics.
        root.MapGet("/api/stats", async (MillraceAdmin admin, CancellationToken ct) =>
        {
            var queues = await SummariesAsync(admin, ct).ConfigureAwait(false);
            var minutes = await admin.StatsAsync(null, 60, ct).ConfigureAwait(false);
            return TypedResults.Ok(new
            {
                Queues = queues,
                TotalLength = queues.Sum(q => q.Length),
                TotalPending = queues.Sum(q => q.Pending),
                TotalDelayed = queues.Sum(q => q.Delayed),
                TotalDeadLetters = queues.Sum(q => q.DeadLetters),
                LastHour = Totals(minutes),
            });
        }).WithSummary("Statistics of every queue (seed 000's /api/stats).");

        // Seed 002: /api/v1/stats.
        api.MapGet("/stats", async (string? queue, int? minutes, MillraceAdmin admin, ServerInstance instance, CancellationToken ct) =>
        {
            if (minutes is < 1 or > 120)
            {
                return Problems.BadRequest($"minutes must be between 1 and 120 (was {minutes}); per-minute statistics are kept for 2 hours.");
            }

            if (queue is not null && await MissingQueueAsync(admin, queue, ct).ConfigureAwait(false) is { } missing)
            {
                return missing;
            }

            var queues = queue is null
                ? await SummariesAsync(admin, ct).ConfigureAwait(false)
                : [QueueDetail.Summary((await admin.QueueInfoAsync(queue, ct).ConfigureAwait(false))!)];
            var buckets = await admin.StatsAsync(queue, minutes ?? 60, ct).ConfigureAwait(false);
            var workers = await admin.WorkersAsync(ct).ConfigureAwait(false);
            var totals = Totals(buckets);
            return TypedResults.Ok(new
            {
                PendingTasks = queues.Sum(q => q.Lag ?? 0) + queues.Sum(q => q.Delayed),
                ProcessingTasks = queues.Sum(q => q.Pending),
                SuccessTasks = totals.Processed,
                FailedTasks = totals.Failed,
                DeadLetteredTasks = totals.DeadLettered,
                DeadLetters = queues.Sum(q => q.DeadLetters),
                TotalWorkers = workers.Count,
                ActiveWorkers = workers.Count(w => w.InFlight > 0),
                StreamInfo = new { Length = queues.Sum(q => q.Length), Groups = queues.Count == 0 ? 0 : await GroupCountAsync(admin, queues, ct).ConfigureAwait(false) },
                InstanceId = instance.Id,
                IsRunning = true,
                WindowMinutes = minutes ?? 60,
                Queues = queues,
                Minutes = buckets,
            });
        }).WithSummary("System statistics (seed 002's /api/v1/stats): pending, processing, succeeded and failed tasks over the window, workers, per-minute counts.");

        // Seed 002: /api/v1/stream, the stream behind a queue.
        api.MapGet("/stream", async (string? queue, MillraceAdmin admin, IOptions<MillraceServerOptions> options, CancellationToken ct) =>
        {
            queue ??= options.Value.DefaultQueue;
            if (await MissingQueueAsync(admin, queue, ct).ConfigureAwait(false) is { } missing)
            {
                return missing;
            }

            var info = (await admin.QueueInfoAsync(queue, ct).ConfigureAwait(false))!;
            return TypedResults.Ok(new
            {
                Queue = queue,
                StreamInfo = new
                {
                    info.Length,
                    Groups = info.Groups.Count,
                    Consumers = info.Groups.SelectMany(g => g.Consumers.Select(c => new { c.Name, Group = g.Name, c.Pending, Idle = (long)c.Idle.TotalMilliseconds })).ToArray(),
                },
            });
        }).WithSummary("The stream behind a queue (default: Millrace:Server:DefaultQueue): length, groups, consumers with pending and idle ms (seed 002).");

        // Seed 002: /api/v1/workers.
        api.MapGet("/workers", async (MillraceAdmin admin, TimeProvider time, CancellationToken ct) =>
        {
            var workers = await admin.WorkersAsync(ct).ConfigureAwait(false);
            var now = time.GetUtcNow();
            var uptime = workers.Count == 0 ? TimeSpan.Zero : now - workers.Min(w => w.StartedAt);
            return TypedResults.Ok(new
            {
                TotalWorkers = workers.Count,
                ActiveWorkers = workers.Count(w => w.InFlight > 0),
                ProcessedTasks = workers.Sum(w => w.Processed),
                FailedTasks = workers.Sum(w => w.Failed),
                Uptime = uptime.Ticks * 100,   // nanoseconds, as the seed's Go duration
                Workers = workers.Select(w => new
                {
                    w.Id,
                    w.Host,
                    w.ProcessId,
                    w.Queues,
                    w.StartedAt,
                    w.LastHeartbeat,
                    HeartbeatAgeMs = Math.Max(0, (now - w.LastHeartbeat).TotalMilliseconds),
                    w.Processed,
                    w.Failed,
                    w.InFlight,
                }).ToArray(),
            });
        }).WithSummary("Worker processes with their heartbeats and counts (seed 002); uptime in nanoseconds as the seed's Go duration.");
    }

    public static async Task<IResult?> MissingQueueAsync(MillraceAdmin admin, string queue, CancellationToken ct)
    {
        try
        {
            QueueName.Validate(queue);
        }
        catch (ArgumentException e)
        {
            return Problems.BadRequest(e.Message);
        }

        return await admin.QueueExistsAsync(queue, ct).ConfigureAwait(false) ? null : Problems.NotFound($"There is no queue '{queue}'.");
    }

    private static async Task<List<QueueSummary>> SummariesAsync(MillraceAdmin admin, CancellationToken ct)
    {
        var list = new List<QueueSummary>();
        foreach (var name in await admin.QueueNamesAsync(ct).ConfigureAwait(false))
        {
            if (await admin.QueueInfoAsync(name, ct).ConfigureAwait(false) is { } info)
            {
                list.Add(QueueDetail.Summary(info));
            }
        }

        return list;
    }

    private static async Task<int> GroupCountAsync(MillraceAdmin admin, IReadOnlyList<QueueSummary> queues, CancellationToken ct)
    {
        var groups = 0;
        foreach (var q in queues)
        {
            groups += (await admin.QueueInfoAsync(q.Name, ct).ConfigureAwait(false))?.Groups.Count ?? 0;
        }

        return groups;
    }

    private static StatsBucket Totals(IReadOnlyList<StatsBucket> buckets) => new(
        buckets.Count == 0 ? default : buckets[0].Minute,
        buckets.Sum(b => b.Published), buckets.Sum(b => b.Processed), buckets.Sum(b => b.Failed), buckets.Sum(b => b.Retried), buckets.Sum(b => b.DeadLettered));
}

/// <summary>This server process's id, for <c>instance_id</c>.</summary>
internal sealed class ServerInstance
{
    public string Id { get; } = $"millrace-{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
}
