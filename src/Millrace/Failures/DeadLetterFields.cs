namespace Millrace;

/// <summary>
/// The fields a dead-letter entry adds to the original message's fields (all prefixed <c>dlq_</c>,
/// dropped again when the entry is requeued).
/// </summary>
public static class DeadLetterFields
{
    /// <summary>Why it is here: <c>failed</c> (attempts used up), <c>non-retriable</c>, <c>poison</c>, <c>no-handler</c>, <c>oversized</c>, <c>undecodable-payload</c>.</summary>
    public const string Reason = "dlq_reason";

    /// <summary>The exception type of the last failure.</summary>
    public const string ErrorType = "dlq_error_type";

    /// <summary>The exception message of the last failure.</summary>
    public const string ErrorMessage = "dlq_error_message";

    /// <summary>The stack trace of the last failure (cut at 8 KB).</summary>
    public const string ErrorStack = "dlq_error_stack";

    /// <summary>Attempts made.</summary>
    public const string Attempts = "dlq_attempts";

    /// <summary>When the first attempt failed, Unix ms.</summary>
    public const string FirstFailedAt = "dlq_first_failed_at";

    /// <summary>When the last attempt failed, Unix ms.</summary>
    public const string LastFailedAt = "dlq_last_failed_at";

    /// <summary>The stream entry id it had in the queue.</summary>
    public const string SourceId = "dlq_source_id";

    /// <summary>The consumer group that gave up on it.</summary>
    public const string Group = "dlq_group";

    /// <summary>The consumer that gave up on it.</summary>
    public const string Consumer = "dlq_consumer";
}
