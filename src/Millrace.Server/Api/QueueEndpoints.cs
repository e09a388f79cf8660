using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Millrace.Server;

/// <summary>Queues: list and detail (viewer).</summary>
internal static class QueueEndpoints
{
    public static void Map(RouteGroupBuilder api, RouteGroupBuilder queue)
    {
        api.MapGet("/queues", async (MillraceAdmin admin, CancellationToken ct) =>
        {
            var names = await admin.QueueNamesAsync(ct).ConfigureAwait(false);
            var queues = new List<QueueSummary>();
            foreach (var name in names)
            {
                if (await admin.QueueInfoAsync(name, ct).ConfigureAwait(false) is { } info)
                {
                    queues.Add(QueueDetail.Summary(info));
                }
            }

            return TypedResults.Ok(new { Queues = queues });
        }).WithSummary("Every declared queue with its counts.");

        queue.MapGet("", async (string queue, MillraceAdmin admin, CancellationToken ct) =>
        {
            var info = await admin.QueueInfoAsync(queue, ct).ConfigureAwait(false);
            if (info is null)
            {
                return Problems.NotFound($"There is no queue '{queue}' (it was terminated just now).");
            }

            var breakers = await admin.CircuitBreakersAsync(queue, ct).ConfigureAwait(false);
            return TypedResults.Ok(QueueDetail.From(info, breakers));
        }).WithSummary("One queue: length, groups, consumers with pending and idle time, lag, oldest pending age, delayed, parked and dead-letter counts, circuit breakers.");
    }
}
