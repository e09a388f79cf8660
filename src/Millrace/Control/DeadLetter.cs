using System.Globalization;
using Millrace.Redis;

namespace Millrace;

/// <summary>A message in a dead-letter queue, with the record of why it is there.</summary>
public sealed record DeadLetter
{
    /// <summary>Its dead-letter id: <c>&lt;partition&gt;/&lt;entry id&gt;</c>.</summary>
    public required string Id { get; init; }

    /// <summary>The queue.</summary>
    public required string Queue { get; init; }

    /// <summary>The message id (task id), when the entry had one.</summary>
    public string? MessageId { get; init; }

    /// <summary>The message type, when the entry had one.</summary>
    public string? Type { get; init; }

    /// <summary>The payload, when the entry had one.</summary>
    public ReadOnlyMemory<byte>? Payload { get; init; }

    /// <summary>Why it is here (see <see cref="DeadLetterFields.Reason"/>).</summary>
    public required string Reason { get; init; }

    /// <summary>The last failure's exception type.</summary>
    public string? ErrorType { get; init; }

    /// <summary>The last failure's message.</summary>
    public string? ErrorMessage { get; init; }

    /// <summary>The last failure's stack trace.</summary>
    public string? ErrorStack { get; init; }

    /// <summary>Attempts made.</summary>
    public int Attempts { get; init; }

    /// <summary>When the first attempt failed.</summary>
    public DateTimeOffset? FirstFailedAt { get; init; }

    /// <summary>When the last attempt failed.</summary>
    public DateTimeOffset? LastFailedAt { get; init; }

    /// <summary>Every field of the entry, as stored.</summary>
    public required IReadOnlyList<StreamField> Fields { get; init; }

    internal static DeadLetter From(string queue, int partition, StreamEntry entry)
    {
        string? Text(string name) => entry.GetString(name) is { Length: > 0 } text ? text : null;
        DateTimeOffset? Time(string name) => long.TryParse(Text(name), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
        return new DeadLetter
        {
            Id = $"{partition}/{entry.Id}",
            Queue = queue,
            MessageId = Text(EnvelopeFields.TaskId),
            Type = Text(EnvelopeFields.Type),
            Payload = entry.Get(EnvelopeFields.Payload),
            Reason = Text(DeadLetterFields.Reason) ?? "unknown",
            ErrorType = Text(DeadLetterFields.ErrorType),
            ErrorMessage = Text(DeadLetterFields.ErrorMessage),
            ErrorStack = Text(DeadLetterFields.ErrorStack),
            Attempts = int.TryParse(Text(DeadLetterFields.Attempts), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 1,
            FirstFailedAt = Time(DeadLetterFields.FirstFailedAt),
            LastFailedAt = Time(DeadLetterFields.LastFailedAt),
            Fields = entry.Fields,
        };
    }

    /// <summary>Splits a dead-letter id into partition and entry id; throws <see cref="ArgumentException"/> with the expected form.</summary>
    internal static (int Partition, string EntryId) ParseId(string? id, int partitions)
    {
        id ??= "";
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !int.TryParse(id.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
            || partition >= partitions || !IsEntryId(id[(slash + 1)..]))
        {
            throw new ArgumentException($"'{id}' is not a dead-letter id of this queue: expected <partition>/<entry id>, e.g. 0/1700000000000-0, with partition below {partitions}.");
        }

        return (partition, id[(slash + 1)..]);
    }

    private static bool IsEntryId(string text)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && long.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out _)
            && long.TryParse(text.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _);
    }
}

/// <summary>Which dead letters a bulk operation takes; unset criteria match everything.</summary>
public sealed record DeadLetterFilter
{
    /// <summary>Only this message type.</summary>
    public string? Type { get; init; }

    /// <summary>Only this reason (<c>failed</c>, <c>poison</c>...).</summary>
    public string? Reason { get; init; }

    /// <summary>Only where the error type or message contains this text (case-insensitive).</summary>
    public string? ErrorContains { get; init; }

    /// <summary>Only those that last failed at or after this time.</summary>
    public DateTimeOffset? FailedSince { get; init; }

    /// <summary>Only those that last failed before this time.</summary>
    public DateTimeOffset? FailedBefore { get; init; }

    /// <summary>Whether <paramref name="letter"/> matches.</summary>
    public bool Matches(DeadLetter letter)
    {
        ArgumentNullException.ThrowIfNull(letter);
        return (Type is null || letter.Type == Type)
            && (Reason is null || letter.Reason == Reason)
            && (ErrorContains is null
                || (letter.ErrorType?.Contains(ErrorContains, StringComparison.OrdinalIgnoreCase) ?? false)
                || (letter.ErrorMessage?.Contains(ErrorContains, StringComparison.OrdinalIgnoreCase) ?? false))
            && (FailedSince is null || letter.LastFailedAt >= FailedSince)
            && (FailedBefore is null || letter.LastFailedAt < FailedBefore);
    }
}

/// <summary>What a bulk requeue did (or, in a dry run, would do).</summary>
/// <param name="DryRun">True when nothing was moved.</param>
/// <param name="Matched">Dead letters that matched the filter.</param>
/// <param name="Requeued">Dead letters moved back to the queue (0 in a dry run).</param>
/// <param name="Ids">The ids that matched.</param>
public sealed record BulkRequeueResult(bool DryRun, int Matched, int Requeued, IReadOnlyList<string> Ids);

/// <summary>A circuit breaker's state as a worker last reported it.</summary>
/// <param name="Group">The consumer group.</param>
/// <param name="Type">The message type.</param>
/// <param name="State">Closed, Open or HalfOpen.</param>
/// <param name="Consumer">The consumer that reported it.</param>
/// <param name="OpenUntil">When an open circuit tries again.</param>
/// <param name="ChangedAt">When it changed.</param>
public sealed record CircuitReport(string Group, string Type, CircuitState State, string Consumer, DateTimeOffset OpenUntil, DateTimeOffset ChangedAt);
