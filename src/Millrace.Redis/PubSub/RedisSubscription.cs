using System.Threading.Channels;

namespace Millrace.Redis;

/// <summary>One message received on a subscribed channel.</summary>
/// <param name="Channel">The channel it was published on.</param>
/// <param name="Payload">The message bytes.</param>
public readonly record struct RedisPubSubMessage(string Channel, byte[] Payload);

/// <summary>
/// A live subscription to one channel. Messages arrive on <see cref="Messages"/>; dispose to
/// unsubscribe. Pub/sub is fire-and-forget in Redis: messages published while the subscriber is
/// reconnecting are not delivered, so Millrace only uses it for wake-ups, never for data.
/// </summary>
public sealed class RedisSubscription : IAsyncDisposable
{
    private readonly Channel<RedisPubSubMessage> _messages = System.Threading.Channels.Channel.CreateBounded<RedisPubSubMessage>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = false });
    private readonly Func<RedisSubscription, ValueTask> _unsubscribe;

    internal RedisSubscription(string channel, Func<RedisSubscription, ValueTask> unsubscribe)
    {
        Channel = channel;
        _unsubscribe = unsubscribe;
    }

    /// <summary>The channel name.</summary>
    public string Channel { get; }

    /// <summary>Received messages; a slow reader loses the oldest beyond 10,000 buffered.</summary>
    public ChannelReader<RedisPubSubMessage> Messages => _messages.Reader;

    internal void Deliver(RedisPubSubMessage message) => _messages.Writer.TryWrite(message);

    internal void Complete(Exception? error = null) => _messages.Writer.TryComplete(error);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _unsubscribe(this).ConfigureAwait(false);
        Complete();
    }
}
