namespace Millrace;

/// <summary>
/// Field names of a message in its stream entry (docs/wire-format.md). The seeds' names are kept:
/// <c>task_id</c>, <c>payload</c>, <c>created_at</c> (seed 000), <c>type</c> and <c>priority</c> (seed 002).
/// Readers ignore fields they do not know, so fields can be added without breaking older workers.
/// </summary>
public static class EnvelopeFields
{
    /// <summary>The message id (also the task id): 32 lowercase hex digits, a UUIDv7 (time-ordered).</summary>
    public const string TaskId = "task_id";

    /// <summary>The message type, e.g. <c>order.created</c>; selects the handler.</summary>
    public const string Type = "type";

    /// <summary>The payload bytes (UTF-8 JSON for typed messages).</summary>
    public const string Payload = "payload";

    /// <summary>When the producer created the message: Unix time in milliseconds.</summary>
    public const string CreatedAt = "created_at";

    /// <summary>Optional: headers as a JSON object of strings (W3C <c>traceparent</c>/<c>tracestate</c> travel here).</summary>
    public const string Headers = "headers";

    /// <summary>Optional: priority, an integer; absent means 0.</summary>
    public const string Priority = "priority";

    /// <summary>Optional: the tenant the message belongs to.</summary>
    public const string Tenant = "tenant";

    /// <summary>Optional: which attempt this delivery is (absent means 1). Retries carry 2, 3, ...</summary>
    public const string Attempt = "attempt";

    /// <summary>Optional: for a delayed or scheduled message, when it was due, Unix ms.</summary>
    public const string DeliverAt = "deliver_at";

    /// <summary>Optional: when the first attempt failed, Unix ms (set on retries).</summary>
    public const string FirstFailedAt = "first_failed_at";
}
