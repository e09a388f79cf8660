using System.Text;
using System.Text.Json;

namespace Millrace;

/// <summary>A message as a handler receives it.</summary>
public sealed class Message
{
    internal Message(string id, string queue, int partition, string streamId, string type, ReadOnlyMemory<byte> payload,
        IReadOnlyDictionary<string, string> headers, int priority, string? tenant, DateTimeOffset createdAt, int attempt = 1, DateTimeOffset? firstFailedAt = null)
    {
        Attempt = attempt;
        FirstFailedAt = firstFailedAt;
        Id = id;
        Queue = queue;
        Partition = partition;
        StreamId = streamId;
        Type = type;
        Payload = payload;
        Headers = headers;
        Priority = priority;
        Tenant = tenant;
        CreatedAt = createdAt;
    }

    /// <summary>The message id (task id), stable across deliveries.</summary>
    public string Id { get; }

    /// <summary>The queue it came from.</summary>
    public string Queue { get; }

    /// <summary>The partition it came from.</summary>
    public int Partition { get; }

    /// <summary>Its stream entry id (<c>ms-seq</c>): its place in the partition.</summary>
    public string StreamId { get; }

    /// <summary>The message type.</summary>
    public string Type { get; }

    /// <summary>The payload bytes.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Headers (empty when none).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Priority (0 when not set).</summary>
    public int Priority { get; }

    /// <summary>The tenant, if any.</summary>
    public string? Tenant { get; }

    /// <summary>Which attempt this is: 1 for the first, 2 for the first retry, and so on.</summary>
    public int Attempt { get; }

    /// <summary>When the first attempt failed (set on retries).</summary>
    public DateTimeOffset? FirstFailedAt { get; }

    /// <summary>For a delayed or scheduled message, when it was due.</summary>
    public DateTimeOffset? DeliverAt { get; internal init; }

    /// <summary>When the producer created it.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>When it entered the stream (from the entry id).</summary>
    public DateTimeOffset EnqueuedAt => TimeOf(StreamId);

    /// <summary>The time part of a stream entry id (<c>ms-seq</c>).</summary>
    internal static DateTimeOffset TimeOf(string streamId)
    {
        var dash = streamId.IndexOf('-', StringComparison.Ordinal);
        return DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(dash < 0 ? streamId : streamId[..dash], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The payload as UTF-8 text.</summary>
    public string PayloadText => Encoding.UTF8.GetString(Payload.Span);

    /// <summary>The payload read as JSON.</summary>
    public T? Read<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(Payload.Span, options ?? MessageJson.Options);
}
