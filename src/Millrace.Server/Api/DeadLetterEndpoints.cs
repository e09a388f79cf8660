using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Millrace.Server;

/// <summary>A queue's dead-letter queue: list and inspect (viewer); requeue and delete (operator); purge (admin).</summary>
internal static class DeadLetterEndpoints
{
    private const string FilterExample = """{"type":"order.created","reason":"failed","error_contains":"timeout","dry_run":true}""";
    private const string IdsExample = """{"ids":["0/1700000000000-0"]}""";

    public static void Map(RouteGroupBuilder queue, Func<RouteHandlerBuilder, MillraceRole, RouteHandlerBuilder> mutating)
    {
        queue.MapGet("/dlq", async (string queue, int? limit, string? type, string? reason, string? error, MillraceAdmin admin, CancellationToken ct) =>
        {
            if (limit is < 1 or > 1000)
            {
                return Problems.BadRequest($"limit must be between 1 and 1000 (was {limit}).");
            }

            DeadLetterFilter? filter = type is null && reason is null && error is null ? null : new DeadLetterFilter { Type = type, Reason = reason, ErrorContains = error };
            var letters = await admin.DeadLettersAsync(queue, limit ?? 50, filter, ct).ConfigureAwait(false);
            var total = await admin.DeadLetterCountAsync(queue, ct).ConfigureAwait(false);
            return TypedResults.Ok(new { Queue = queue, Total = total, Items = letters.Select(l => DeadLetterView.From(l, full: false)).ToArray() });
        }).WithSummary("The newest dead letters, optionally filtered by type, reason or error text.");

        queue.MapGet("/dlq/{partition}/{entry}", async (string queue, string partition, string entry, MillraceAdmin admin, CancellationToken ct) =>
        {
            var letter = await admin.DeadLetterAsync(queue, $"{partition}/{entry}", ct).ConfigureAwait(false);
            return letter is null
                ? Problems.NotFound($"Queue '{queue}' has no dead letter {partition}/{entry}.")
                : TypedResults.Ok(DeadLetterView.From(letter, full: true));
        }).WithSummary("One dead letter with its payload, headers, error and stack trace.");

        mutating(queue.MapPost("/dlq/{partition}/{entry}/requeue", async (string queue, string partition, string entry, MillraceAdmin admin, CancellationToken ct) =>
        {
            var id = $"{partition}/{entry}";
            return await admin.RequeueDeadLetterAsync(queue, id, ct).ConfigureAwait(false)
                ? TypedResults.Ok(new Acknowledgement(queue, "requeued", id, 1))
                : Problems.NotFound($"Queue '{queue}' has no dead letter {id}; nothing was requeued.");
        }).WithSummary("Moves one dead letter back to its queue as a fresh first attempt."), MillraceRole.Operator);

        mutating(queue.MapDelete("/dlq/{partition}/{entry}", async (string queue, string partition, string entry, MillraceAdmin admin, CancellationToken ct) =>
        {
            var id = $"{partition}/{entry}";
            return await admin.DeleteDeadLetterAsync(queue, id, ct).ConfigureAwait(false)
                ? TypedResults.Ok(new Acknowledgement(queue, "deleted", id, 1))
                : Problems.NotFound($"Queue '{queue}' has no dead letter {id}; nothing was deleted.");
        }).WithSummary("Deletes one dead letter."), MillraceRole.Operator);

        mutating(queue.MapPost("/dlq/requeue", async (string queue, HttpContext http, MillraceAdmin admin, CancellationToken ct) =>
        {
            var (body, error) = await RequestBody.ReadAsync<DeadLetterFilterRequest>(http, 64 * 1024, FilterExample).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }

            var filter = new DeadLetterFilter { Type = body!.Type, Reason = body.Reason, ErrorContains = body.ErrorContains, FailedSince = body.FailedSince, FailedBefore = body.FailedBefore };
            var result = await admin.RequeueDeadLettersAsync(queue, filter, body.DryRun, ct).ConfigureAwait(false);
            return TypedResults.Ok(new { Queue = queue, result.DryRun, result.Matched, result.Requeued, result.Ids });
        }).WithSummary("Requeues every dead letter matching a filter (all when the filter is empty); dry_run only reports what would move.")
          .Accepts<DeadLetterFilterRequest>("application/json"), MillraceRole.Operator);

        mutating(queue.MapPost("/dlq/delete", async (string queue, HttpContext http, MillraceAdmin admin, CancellationToken ct) =>
        {
            var (body, error) = await RequestBody.ReadAsync<DeadLetterIdsRequest>(http, 1024 * 1024, IdsExample).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }

            if (body!.Ids is not { Count: > 0 } ids)
            {
                return Problems.BadRequest($"ids is missing or empty: list the dead-letter ids to delete, e.g. {IdsExample}.");
            }

            // Check every id before deleting any, so a bad id deletes nothing.
            foreach (var id in ids)
            {
                if (id is null || id.IndexOf('/', StringComparison.Ordinal) is var slash && (slash <= 0 || slash == id.Length - 1))
                {
                    return Problems.BadRequest($"'{id}' is not a dead-letter id: expected <partition>/<entry id>, e.g. 0/1700000000000-0. Nothing was deleted.");
                }

                _ = await admin.DeadLetterAsync(queue, id, ct).ConfigureAwait(false);   // throws ArgumentException (400) for a malformed id
            }

            var deleted = 0;
            foreach (var id in ids)
            {
                deleted += await admin.DeleteDeadLetterAsync(queue, id, ct).ConfigureAwait(false) ? 1 : 0;
            }

            return TypedResults.Ok(new Acknowledgement(queue, "deleted", null, deleted));
        }).WithSummary("Deletes the listed dead letters.").Accepts<DeadLetterIdsRequest>("application/json"), MillraceRole.Operator);

        mutating(queue.MapDelete("/dlq", async (string queue, MillraceAdmin admin, CancellationToken ct) =>
        {
            var purged = await admin.PurgeDeadLettersAsync(queue, ct).ConfigureAwait(false);
            return TypedResults.Ok(new Acknowledgement(queue, "purged", null, purged));
        }).WithSummary("Deletes every dead letter of the queue."), MillraceRole.Admin);
    }
}
