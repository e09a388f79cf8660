using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Millrace.Server;

/// <summary>Pause and resume (queue, type), stop and resume a message (operator); terminate (admin, with typed confirmation).</summary>
internal static class ControlEndpoints
{
    public static void Map(RouteGroupBuilder queue, Func<RouteHandlerBuilder, MillraceRole, RouteHandlerBuilder> mutating)
    {
        mutating(queue.MapPost("/pause", async (string queue, MillraceAdmin admin, CancellationToken ct) =>
        {
            await admin.PauseAsync(queue, ct).ConfigureAwait(false);
            return TypedResults.Ok(new Acknowledgement(queue, "paused"));
        }).WithSummary("Pauses the queue: no worker reads new messages; running handlers finish."), MillraceRole.Operator);

        mutating(queue.MapPost("/resume", async (string queue, MillraceAdmin admin, CancellationToken ct) =>
        {
            await admin.ResumeAsync(queue, ct).ConfigureAwait(false);
            return TypedResults.Ok(new Acknowledgement(queue, "resumed"));
        }).WithSummary("Resumes a paused queue."), MillraceRole.Operator);

        mutating(queue.MapPost("/types/{type}/pause", async (string queue, string type, MillraceAdmin admin, CancellationToken ct) =>
        {
            if (ValidateType(type) is { } bad)
            {
                return bad;
            }

            await admin.PauseTypeAsync(queue, type, ct).ConfigureAwait(false);
            return TypedResults.Ok(new Acknowledgement(queue, "type paused", type));
        }).WithSummary("Pauses one message type on the queue: its messages are parked until it is resumed."), MillraceRole.Operator);

        mutating(queue.MapPost("/types/{type}/resume", async (string queue, string type, MillraceAdmin admin, CancellationToken ct) =>
        {
            if (ValidateType(type) is { } bad)
            {
                return bad;
            }

            var moved = await admin.ResumeTypeAsync(queue, type, ct).ConfigureAwait(false);
            return TypedResults.Ok(new Acknowledgement(queue, "type resumed", type, moved));
        }).WithSummary("Resumes a paused type; its parked messages go back to the queue (count = how many)."), MillraceRole.Operator);

        mutating(queue.MapPost("/messages/{id}/stop", async (string queue, string id, MillraceAdmin admin, CancellationToken ct) =>
        {
            if (ValidateMessageId(id) is { } bad)
            {
                return bad;
            }

            await admin.StopMessageAsync(queue, id, ct).ConfigureAwait(false);
            return TypedResults.Ok(new Acknowledgement(queue, "message stopped", id));
        }).WithSummary("Stops one message for every consumer until it is resumed."), MillraceRole.Operator);

        mutating(queue.MapPost("/messages/{id}/resume", async (string queue, string id, MillraceAdmin admin, CancellationToken ct) =>
        {
            if (ValidateMessageId(id) is { } bad)
            {
                return bad;
            }

            var unparked = await admin.ResumeMessageAsync(queue, id, ct).ConfigureAwait(false);
            return TypedResults.Ok(new Acknowledgement(queue, "message resumed", id, unparked ? 1 : 0));
        }).WithSummary("Resumes a stopped message (count 1 when it was parked and went back to the queue)."), MillraceRole.Operator);

        mutating(queue.MapPost("/terminate", async (string queue, HttpContext http, MillraceAdmin admin, CancellationToken ct) =>
        {
            var example = $$"""{"confirm":"{{queue}}"}""";
            var (body, error) = await RequestBody.ReadAsync<TerminateRequest>(http, 4096, example).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }

            if (!string.Equals(body!.Confirm, queue, StringComparison.Ordinal))
            {
                return Problems.BadRequest(
                    $"Terminating deletes queue '{queue}' with every message, dead letter and setting. To confirm, send the queue's name: {example}" +
                    (body.Confirm is null ? "." : $" (got '{body.Confirm}')." ) + " Nothing was deleted.");
            }

            await admin.TerminateAsync(queue, ct).ConfigureAwait(false);
            return TypedResults.Ok(new Acknowledgement(queue, "terminated"));
        }).WithSummary("Deletes the queue and everything in it; the body must confirm with the queue's name.").Accepts<TerminateRequest>("application/json"), MillraceRole.Admin);
    }

    public static IResult? ValidateType(string type) =>
        type.Length is 0 or > 256 || type.Any(char.IsControl)
            ? Problems.BadRequest($"The message type must be 1 to 256 characters without control characters (got {type.Length}). Nothing was changed.")
            : null;

    public static IResult? ValidateMessageId(string id) =>
        id.Length is 0 or > 256 || id.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))
            ? Problems.BadRequest($"'{(id.Length > 40 ? id[..40] + "…" : id)}' is not a message id: ids are 1 to 256 characters without spaces. Nothing was changed.")
            : null;
}
