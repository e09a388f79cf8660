using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Millrace.Server;

internal static partial class TaskEndpoints
{
    private static readonly string StateNames = string.Join(", ", Enum.GetNames<TaskState>().Select(n => n.ToLowerInvariant()));

    static partial void MapReads(RouteGroupBuilder api)
    {
        api.MapGet("/tasks/{id}", async (string id, MillraceAdmin admin, CancellationToken ct) =>
        {
            if (ControlEndpoints.ValidateMessageId(id) is { } bad)
            {
                return bad;
            }

            var task = await admin.TaskAsync(id, ct).ConfigureAwait(false);
            return task is null
                ? Problems.NotFound($"There is no task '{id}' (task records are kept only with Millrace:TaskState:Enabled = true, and expire).")
                : TypedResults.Ok(TaskView.From(task, full: true));
        }).WithSummary("One task: state, attempts, payload, headers, errors of each failed attempt, result (seed 002).");

        api.MapGet("/tasks", async (string? status, string? type, string? queue, int? limit, string? cursor, MillraceAdmin admin, CancellationToken ct) =>
        {
            TaskState? state = null;
            if (status is not null)
            {
                if (!Enum.TryParse<TaskState>(status, ignoreCase: true, out var parsed) || int.TryParse(status, out _))
                {
                    return Problems.BadRequest($"status '{status}' is not a task state; use one of {StateNames}.");
                }

                state = parsed;
            }

            if (limit is < 1 or > 1000)
            {
                return Problems.BadRequest($"limit must be between 1 and 1000 (was {limit}).");
            }

            var page = await admin.TasksAsync(new TaskQuery { State = state, Type = type, Queue = queue, Limit = limit ?? 50, Cursor = cursor }, ct).ConfigureAwait(false);
            return TypedResults.Ok(new { Items = page.Items.Select(t => TaskView.From(t, full: false)).ToArray(), page.NextCursor });
        }).WithSummary($"Tasks, newest change first, filtered by status, type or queue; page with cursor=next_cursor (seed 002).");

        api.MapGet("/events", async (string? after, int? count, MillraceAdmin admin, CancellationToken ct) =>
        {
            if (count is < 1 or > 1000)
            {
                return Problems.BadRequest($"count must be between 1 and 1000 (was {count}).");
            }

            var events = await admin.EventsAsync(after, count ?? 100, ct).ConfigureAwait(false);
            return TypedResults.Ok(new { Items = events, Last = events.Count == 0 ? after : events[^1].Id });
        }).WithSummary("Lifecycle events (published, started, succeeded, failed, retried, dead_lettered), oldest first after 'after'; without it, the latest.");
    }
}

/// <summary>A task as the API shows it.</summary>
internal sealed record TaskView(
    string Id, string Queue, string Type, string Status, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? Tenant,
    PayloadView? Payload, bool PayloadTruncated, IReadOnlyDictionary<string, string>? Headers, IReadOnlyList<TaskAttemptError> Errors, string? Result)
{
    public static TaskView From(TaskRecord t, bool full) => new(
        t.Id, t.Queue, t.Type, t.State.ToString().ToLowerInvariant(), t.Attempts, t.CreatedAt, t.UpdatedAt, t.Tenant,
        PayloadView.From(t.Payload, full ? int.MaxValue : 256), t.PayloadTruncated, full ? t.Headers : null, t.Errors, t.Result);
}
