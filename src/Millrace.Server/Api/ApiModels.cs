using System.Text;
using System.Text.Json;

namespace Millrace.Server;

// The API's JSON shapes (snake_case on the wire). Durations are milliseconds, times ISO 8601.

internal sealed record QueueSummary(string Name, int Partitions, long Length, long Pending, long? Lag, long Delayed, long DeadLetters, long Parked, bool Paused, double? OldestPendingAgeMs);

internal sealed record QueueDetail(
    string Name, int Partitions, long Length, long Pending, long? Lag, long Delayed, long DeadLetters, long Parked, bool Paused,
    IReadOnlyList<string> PausedTypes, double? OldestPendingAgeMs, DateTimeOffset? CreatedAt,
    IReadOnlyList<GroupView> Groups, IReadOnlyList<CircuitView> CircuitBreakers)
{
    public static QueueDetail From(QueueInfo q, IReadOnlyList<CircuitReport> breakers) => new(
        q.Name, q.Partitions, q.Length, q.Groups.Sum(g => g.Pending), LagOf(q), q.Delayed, q.DeadLetters, q.Parked, q.Paused,
        q.PausedTypes, q.OldestPendingAge?.TotalMilliseconds, q.CreatedAt,
        [.. q.Groups.Select(g => new GroupView(g.Name, g.Pending, g.Lag, [.. g.Consumers.Select(c => new ConsumerView(c.Name, c.Pending, c.Idle.TotalMilliseconds))]))],
        [.. breakers.Select(b => new CircuitView(b.Group, b.Type, b.State.ToString(), b.Consumer, b.OpenUntil, b.ChangedAt))]);

    public static QueueSummary Summary(QueueInfo q) => new(
        q.Name, q.Partitions, q.Length, q.Groups.Sum(g => g.Pending), LagOf(q), q.Delayed, q.DeadLetters, q.Parked, q.Paused, q.OldestPendingAge?.TotalMilliseconds);

    private static long? LagOf(QueueInfo q) => q.Groups.Count == 0 ? null : q.Groups.Any(g => g.Lag is null) ? null : q.Groups.Max(g => g.Lag!.Value);
}

internal sealed record GroupView(string Name, long Pending, long? Lag, IReadOnlyList<ConsumerView> Consumers);

internal sealed record ConsumerView(string Name, long Pending, double IdleMs);

internal sealed record CircuitView(string Group, string Type, string State, string Consumer, DateTimeOffset OpenUntil, DateTimeOffset ChangedAt);

internal sealed record DeadLetterView(
    string Id, string Queue, string? MessageId, string? Type, string Reason, string? ErrorType, string? ErrorMessage, string? ErrorStack,
    int Attempts, DateTimeOffset? FirstFailedAt, DateTimeOffset? LastFailedAt, PayloadView? Payload, IReadOnlyDictionary<string, string>? Headers)
{
    public static DeadLetterView From(DeadLetter d, bool full) => new(
        d.Id, d.Queue, d.MessageId, d.Type, d.Reason, d.ErrorType, d.ErrorMessage, full ? d.ErrorStack : null, d.Attempts,
        d.FirstFailedAt, d.LastFailedAt, d.Payload is { } p ? PayloadView.From(p, full ? 1024 * 1024 : 256) : null,
        full ? HeadersOf(d) : null);

    private static Dictionary<string, string>? HeadersOf(DeadLetter d)
    {
        var headers = d.Fields.FirstOrDefault(f => f.Name == "headers");
        if (headers.Name is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(headers.Value.Span);
        }
        catch (JsonException)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal) { ["(undecodable)"] = headers.ValueText };
        }
    }
}

/// <summary>A payload for display: UTF-8 text when it is text, else base64; cut at a size.</summary>
internal sealed record PayloadView(int Bytes, string Encoding, string Data, bool Truncated)
{
    public static PayloadView From(ReadOnlyMemory<byte> payload, int max)
    {
        var span = payload.Span[..Math.Min(payload.Length, max)];
        var truncated = payload.Length > max;
        try
        {
            var text = new UTF8Encoding(false, true).GetString(span);
            return new PayloadView(payload.Length, "utf-8", text, truncated);
        }
        catch (DecoderFallbackException)
        {
            return new PayloadView(payload.Length, "base64", Convert.ToBase64String(span), truncated);
        }
    }
}

internal sealed record DeadLetterFilterRequest(string? Type, string? Reason, string? ErrorContains, DateTimeOffset? FailedSince, DateTimeOffset? FailedBefore, bool DryRun);

internal sealed record DeadLetterIdsRequest(IReadOnlyList<string>? Ids);

internal sealed record TerminateRequest(string? Confirm);

internal sealed record PublishTaskRequest(
    string? Type, JsonElement? Payload, int? Priority, string? Queue, Dictionary<string, string>? Headers, string? Tenant,
    string? DedupKey, string? PartitionKey, double? DelaySeconds, DateTimeOffset? DeliverAt, string? Id);

internal sealed record PublishTaskResponse(string Id, string Queue, string Type, string Status, string? StreamId, int Partition, bool Duplicate, DateTimeOffset? DeliverAt);

internal sealed record ConcurrencyRequest(string? TaskType, int? MaxConcurrency);

internal sealed record RateLimitRequest(string? Scope, string? Key, double? PerSecond, int? Burst);

internal sealed record CleanupRequest(string? Policy);

internal sealed record Acknowledgement(string Queue, string Action, string? Target = null, long? Count = null);
