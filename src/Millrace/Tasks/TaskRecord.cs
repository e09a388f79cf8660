namespace Millrace;

/// <summary>A message's task record: its state, attempts with their errors and its result.</summary>
/// <param name="Id">The message id.</param>
/// <param name="Queue">Its queue.</param>
/// <param name="Type">Its type.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Attempts">Handler attempts started.</param>
/// <param name="CreatedAt">When it was published (or first seen by a consumer when published before tracking).</param>
/// <param name="UpdatedAt">Its last change.</param>
/// <param name="Tenant">Its tenant, if any.</param>
/// <param name="Payload">Its payload, cut at <see cref="TaskStateOptions.MaxPayloadBytes"/>.</param>
/// <param name="PayloadTruncated">Whether <paramref name="Payload"/> was cut.</param>
/// <param name="Headers">Its headers.</param>
/// <param name="Errors">The errors of failed attempts, oldest first (the last <see cref="TaskStateOptions.MaxErrors"/>).</param>
/// <param name="Result">What its handler set as <see cref="MessageContext.Result"/>, if anything.</param>
public sealed record TaskRecord(
    string Id,
    string Queue,
    string Type,
    TaskState State,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? Tenant,
    ReadOnlyMemory<byte> Payload,
    bool PayloadTruncated,
    IReadOnlyDictionary<string, string> Headers,
    IReadOnlyList<TaskAttemptError> Errors,
    string? Result);

/// <summary>The error of one failed attempt.</summary>
/// <param name="Attempt">The attempt number (1 is the first).</param>
/// <param name="At">When it failed.</param>
/// <param name="Error">The exception's type and message.</param>
public sealed record TaskAttemptError(int Attempt, DateTimeOffset At, string Error);

/// <summary>Which task records to list: by state, type or queue (each optional), newest change first, a page at a time.</summary>
public sealed class TaskQuery
{
    /// <summary>Only records in this state.</summary>
    public TaskState? State { get; init; }

    /// <summary>Only records of this message type.</summary>
    public string? Type { get; init; }

    /// <summary>Only records of this queue (ignored when <see cref="State"/> or <see cref="Type"/> is given).</summary>
    public string? Queue { get; init; }

    /// <summary>Records per page: 1 to 1000.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>The <see cref="TaskPage.NextCursor"/> of the previous page; null for the first.</summary>
    public string? Cursor { get; init; }
}

/// <summary>A page of task records.</summary>
/// <param name="Items">The records, newest change first.</param>
/// <param name="NextCursor">Where the next page starts; null when this is the last.</param>
public sealed record TaskPage(IReadOnlyList<TaskRecord> Items, string? NextCursor);
