using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;
using Millrace.Redis;

namespace Millrace;

/// <summary>Turns messages into stream fields and back (docs/wire-format.md).</summary>
internal static class Envelope
{
    private static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    public static StreamField[] Encode(OutgoingMessage message, string id, long createdAtMs, IReadOnlyDictionary<string, string>? headers)
    {
        var count = 4 + (headers is { Count: > 0 } ? 1 : 0) + (message.Priority != 0 ? 1 : 0) + (message.Tenant is null ? 0 : 1);
        var fields = new StreamField[count];
        var at = 0;
        fields[at++] = new StreamField(EnvelopeFields.TaskId, Ascii(id));
        fields[at++] = new StreamField(EnvelopeFields.Type, System.Text.Encoding.UTF8.GetBytes(message.Type));
        fields[at++] = new StreamField(EnvelopeFields.Payload, message.Payload);
        fields[at++] = new StreamField(EnvelopeFields.CreatedAt, Number(createdAtMs));
        if (headers is { Count: > 0 })
        {
            fields[at++] = new StreamField(EnvelopeFields.Headers, JsonSerializer.SerializeToUtf8Bytes(headers, HeadersJson.Default.IReadOnlyDictionaryStringString));
        }

        if (message.Priority != 0)
        {
            fields[at++] = new StreamField(EnvelopeFields.Priority, Number(message.Priority));
        }

        if (message.Tenant is not null)
        {
            fields[at++] = new StreamField(EnvelopeFields.Tenant, System.Text.Encoding.UTF8.GetBytes(message.Tenant));
        }

        return fields;
    }

    /// <summary>Reads an entry; throws <see cref="EnvelopeException"/> saying what is wrong with it.</summary>
    public static Message Decode(StreamEntry entry, string queue, int partition)
    {
        string? id = null, type = null, tenant = null;
        ReadOnlyMemory<byte>? payload = null;
        long createdAt = 0, firstFailedAt = 0, deliverAt = 0;
        var priority = 0;
        var attempt = 1;
        var headers = NoHeaders;
        foreach (var field in entry.Fields)
        {
            switch (field.Name)
            {
                case EnvelopeFields.TaskId:
                    id = field.ValueText;
                    break;
                case EnvelopeFields.Type:
                    type = field.ValueText;
                    break;
                case EnvelopeFields.Payload:
                    payload = field.Value;
                    break;
                case EnvelopeFields.CreatedAt:
                    createdAt = ParseLong(field, entry);
                    break;
                case EnvelopeFields.Priority:
                    priority = (int)Math.Clamp(ParseLong(field, entry), int.MinValue, int.MaxValue);
                    break;
                case EnvelopeFields.Tenant:
                    tenant = field.ValueText;
                    break;
                case EnvelopeFields.Headers:
                    headers = ParseHeaders(field, entry);
                    break;
                case EnvelopeFields.Attempt:
                    attempt = (int)Math.Clamp(ParseLong(field, entry), 1, int.MaxValue);
                    break;
                case EnvelopeFields.FirstFailedAt:
                    firstFailedAt = ParseLong(field, entry);
                    break;
                case EnvelopeFields.DeliverAt:
                    deliverAt = ParseLong(field, entry);
                    break;
            }
        }

        if (string.IsNullOrEmpty(type))
        {
            throw new EnvelopeException(entry.Id, $"entry {entry.Id} has no '{EnvelopeFields.Type}' field");
        }

        if (payload is null)
        {
            throw new EnvelopeException(entry.Id, $"entry {entry.Id} has no '{EnvelopeFields.Payload}' field");
        }

        // An entry written by hand with redis-cli may lack the id and time: the entry id stands in for both.
        id ??= entry.Id;
        var created = createdAt > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(createdAt) : Message.TimeOf(entry.Id);
        return new Message(id, queue, partition, entry.Id, type, payload.Value, headers, priority, tenant, created, attempt,
            firstFailedAt > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(firstFailedAt) : null)
        {
            DeliverAt = deliverAt > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(deliverAt) : null,
        };
    }

    private static long ParseLong(StreamField field, StreamEntry entry) =>
        Utf8Parser.TryParse(field.Value.Span, out long value, out var consumed) && consumed == field.Value.Length
            ? value
            : throw new EnvelopeException(entry.Id, $"entry {entry.Id} has '{field.Name}' = '{field.ValueText}', which is not an integer");

    private static IReadOnlyDictionary<string, string> ParseHeaders(StreamField field, StreamEntry entry)
    {
        try
        {
            return JsonSerializer.Deserialize(field.Value.Span, HeadersJson.Default.IReadOnlyDictionaryStringString) ?? NoHeaders;
        }
        catch (JsonException e)
        {
            throw new EnvelopeException(entry.Id, $"entry {entry.Id} has headers that are not a JSON object of strings: {e.Message}");
        }
    }

    private static byte[] Ascii(string text) => System.Text.Encoding.ASCII.GetBytes(text);

    private static byte[] Number(long value) => System.Text.Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture));
}

/// <summary>A stream entry that is not a valid Millrace message (poison input).</summary>
public sealed class EnvelopeException(string streamId, string message) : Exception(message)
{
    /// <summary>The offending entry's id.</summary>
    public string StreamId { get; } = streamId;
}
