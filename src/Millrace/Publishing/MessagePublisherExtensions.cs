using System.Text.Json;

namespace Millrace;

/// <summary>Typed publishing: the payload is the message as JSON, the type its <see cref="MessageTypeAttribute"/> name.</summary>
public static class MessagePublisherExtensions
{
    /// <summary>Publishes <paramref name="message"/> as JSON to <paramref name="queue"/>.</summary>
    public static Task<PublishResult> PublishAsync<T>(this IMessagePublisher publisher, string queue, T message, PublishOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publisher);
        return publisher.PublishAsync(ToOutgoing(queue, message, options), cancellationToken);
    }

    /// <summary>Publishes many typed messages in one round trip.</summary>
    public static Task<IReadOnlyList<PublishResult>> PublishBatchAsync<T>(this IMessagePublisher publisher, string queue, IEnumerable<T> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publisher);
        return publisher.PublishBatchAsync(messages.Select(m => ToOutgoing(queue, m, null)).ToArray(), cancellationToken);
    }

    private static OutgoingMessage ToOutgoing<T>(string queue, T message, PublishOptions? options) => new()
    {
        Queue = queue,
        Type = options?.Type ?? MessageTypeAttribute.NameOf<T>(),
        Payload = JsonSerializer.SerializeToUtf8Bytes(message, MessageJson.Options),
        Headers = options?.Headers,
        Priority = options?.Priority ?? 0,
        Tenant = options?.Tenant,
        PartitionKey = options?.PartitionKey,
        DedupKey = options?.DedupKey,
        DedupTtl = options?.DedupTtl,
        Id = options?.Id,
        Delay = options?.Delay,
        DeliverAt = options?.DeliverAt,
    };
}
