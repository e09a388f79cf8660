namespace Millrace;

/// <summary>Publishes messages to queues.</summary>
/// <example>
/// <code>
/// var result = await publisher.PublishAsync("orders", new OrderCreated(42), new PublishOptions { DedupKey = "order-42" });
/// </code>
/// </example>
public interface IMessagePublisher
{
    /// <summary>Publishes one message. When the task completes, the message is in Redis (subject to Redis's own durability settings).</summary>
    Task<PublishResult> PublishAsync(OutgoingMessage message, CancellationToken cancellationToken = default);

    /// <summary>Publishes several messages in one round trip (per Cluster node); results are in the same order.</summary>
    Task<IReadOnlyList<PublishResult>> PublishBatchAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default);
}
