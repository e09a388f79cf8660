using System.Globalization;
using System.Text.Json;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Writes task records and lifecycle events when <see cref="TaskStateOptions.Enabled"/>. Records are
/// for looking messages up; the delivery path never reads them. A write that fails is logged by the
/// caller and the message goes on: a record may then lag behind its message, never the reverse.
/// </summary>
internal sealed class TaskTracker(MillraceRuntime runtime)
{
    private const string Create = "create";
    private const string Set = "set";
    private const string Reopen = "reopen";

    public TaskKeys Keys { get; } = new(runtime.Prefix);

    public bool Enabled => Options.Enabled;

    private TaskStateOptions Options => runtime.Options.TaskState;

    /// <summary>A published message: pending, or scheduled when it has a due time. Keeps the state a consumer may already have written.</summary>
    public RedisCommand Published(OutgoingMessage message, string id, bool scheduled, DateTimeOffset createdAt) =>
        Command(Create, scheduled ? TaskState.Scheduled : TaskState.Pending, id, message.Queue, message.Type, message.Tenant, createdAt,
            attempt: null, error: null, result: null, events: "published", body: (message.Payload, message.Headers));

    /// <summary>A handler starts an attempt (the first one also carries the body, in case the publisher did not track it).</summary>
    public RedisCommand Started(Message message) =>
        Command(Set, TaskState.Processing, message.Id, message.Queue, message.Type, message.Tenant, message.CreatedAt,
            message.Attempt, error: null, result: null, events: "started", body: message.Attempt <= 1 ? (message.Payload, message.Headers) : null);

    public RedisCommand Succeeded(Message message, string? result) =>
        Command(Set, TaskState.Succeeded, message.Id, message.Queue, message.Type, message.Tenant, message.CreatedAt,
            message.Attempt, error: null, result, events: "succeeded", body: null);

    /// <summary>An attempt failed and another is scheduled.</summary>
    public RedisCommand Retrying(Message message, Exception error) =>
        Command(Set, TaskState.Failed, message.Id, message.Queue, message.Type, message.Tenant, message.CreatedAt,
            message.Attempt, Describe(error), result: null, events: "failed,retried", body: null);

    /// <summary>Moved to the dead-letter queue; <paramref name="failedAttempt"/> when a handler run failed on the way.</summary>
    public RedisCommand DeadLettered(Message message, string reason, Exception? error, bool failedAttempt) =>
        Command(Set, TaskState.Dead, message.Id, message.Queue, message.Type, message.Tenant, message.CreatedAt,
            message.Attempt, error is null ? reason : $"{reason}: {Describe(error)}", result: null,
            events: failedAttempt ? "failed,dead_lettered" : "dead_lettered", body: (message.Payload, message.Headers));

    public RedisCommand Stopped(Message message) =>
        Command(Set, TaskState.Stopped, message.Id, message.Queue, message.Type, message.Tenant, message.CreatedAt,
            attempt: null, error: null, result: null, events: "stopped", body: null);

    /// <summary>
    /// Back in its stream by an operator (a dead letter requeued, a stopped message resumed). Written
    /// before the message moves, and only over a dead or stopped record, so a consumer that picks the
    /// message up at once is never overwritten by a late "pending".
    /// </summary>
    public RedisCommand Requeued(string queue, string id, string type, string? tenant, DateTimeOffset createdAt) =>
        Command(Reopen, TaskState.Pending, id, queue, type, tenant, createdAt,
            attempt: null, error: null, result: null, events: "requeued", body: null);

    private RedisCommand Command(
        string mode,
        TaskState state,
        string id,
        string queue,
        string type,
        string? tenant,
        DateTimeOffset createdAt,
        int? attempt,
        string? error,
        string? result,
        string events,
        (ReadOnlyMemory<byte> Payload, IReadOnlyDictionary<string, string>? Headers)? body)
    {
        var now = runtime.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var ttlMs = (long)Options.Ttl.TotalMilliseconds;
        var payload = body?.Payload ?? ReadOnlyMemory<byte>.Empty;
        var truncated = payload.Length > Options.MaxPayloadBytes;
        RedisArg[] keys =
        [
            Keys.Record(id), Keys.Errors(id), Keys.All, Keys.ByType(type), Keys.ByQueue(queue), Keys.Events,
            .. TaskKeys.States.Select(s => (RedisArg)Keys.ByState(s)),
            .. TaskKeys.States.Select(s => (RedisArg)Keys.ByTypeAndState(type, s)),
        ];
        RedisArg[] args =
        [
            mode,
            TaskKeys.Name(state),
            TaskKeys.Member(now, id),
            now,
            ttlMs,
            "(" + (now - ttlMs).ToString("D13", CultureInfo.InvariantCulture),
            attempt?.ToString(CultureInfo.InvariantCulture) ?? "",
            error ?? "",
            result ?? "",
            Options.MaxErrors,
            Options.EventsMaxLength,
            events,
            id,
            queue,
            type,
            tenant ?? "",
            createdAt.ToUnixTimeMilliseconds(),
            truncated ? payload[..Options.MaxPayloadBytes] : payload,
            truncated ? "1" : "0",
            body?.Headers is { Count: > 0 } headers ? JsonSerializer.Serialize(headers, HeadersJson.Default.IReadOnlyDictionaryStringString) : "",
            body is null ? "0" : "1",
        ];
        return TaskScripts.Record.Command(keys, args);
    }

    private static string Describe(Exception error) => $"{error.GetType().Name}: {error.Message}";
}
