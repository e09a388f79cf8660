using System.Collections.Concurrent;
using Millrace.Redis.Connections;

namespace Millrace.Redis;

/// <summary>
/// Owns the connection in pub/sub mode: subscribes, routes messages to subscriptions, and after a
/// dropped connection reconnects with backoff and subscribes to every channel again.
/// </summary>
internal sealed class RedisSubscriber(RedisOptions options, Func<CancellationToken, Task<RedisEndpoint>> locate, ConnectionRole role = ConnectionRole.Subscriber) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, List<RedisSubscription>> _channels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _confirmations = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private RedisConnection? _connection;
    private Task _reconnectLoop = Task.CompletedTask;

    public async Task<RedisSubscription> SubscribeAsync(string channel, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        var subscription = new RedisSubscription(channel, UnsubscribeAsync);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        Task confirmed;
        try
        {
            var connection = await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
            var list = _channels.GetOrAdd(channel, _ => []);
            lock (list)
            {
                list.Add(subscription);
            }

            confirmed = Subscribe(connection, channel);
        }
        finally
        {
            _gate.Release();
        }

        await confirmed.WaitAsync(options.CommandTimeout, cancellationToken).ConfigureAwait(false);
        return subscription;
    }

    /// <summary>Drops the current connection; the reconnect loop subscribes again on a fresh one.</summary>
    public void Reset(Exception reason) => _connection?.Abort(reason);

    private Task Subscribe(RedisConnection connection, string channel)
    {
        var confirmation = _confirmations.GetOrAdd(channel, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        connection.SendUnanswered(new RedisCommand("SUBSCRIBE", [channel]));
        return confirmation.Task;
    }

    private async ValueTask UnsubscribeAsync(RedisSubscription subscription)
    {
        if (!_channels.TryGetValue(subscription.Channel, out var list))
        {
            return;
        }

        bool last;
        lock (list)
        {
            list.Remove(subscription);
            last = list.Count == 0;
        }

        if (last && _channels.TryRemove(subscription.Channel, out _) && _connection is { IsHealthy: true } connection)
        {
            _confirmations.TryRemove(subscription.Channel, out _);
            connection.SendUnanswered(new RedisCommand("UNSUBSCRIBE", [subscription.Channel]));
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    private async Task<RedisConnection> EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsHealthy: true } current)
        {
            return current;
        }

        var endpoint = await locate(cancellationToken).ConfigureAwait(false);
        var connection = await RedisConnection.ConnectAsync(endpoint, options, role, cancellationToken).ConfigureAwait(false);
        connection.EnterSubscriberMode(OnFrame);
        _connection = connection;
        if (_reconnectLoop.IsCompleted)
        {
            _reconnectLoop = ReconnectLoopAsync();
        }

        return connection;
    }

    /// <summary>Waits for the connection to drop, then reconnects (with backoff) and subscribes again.</summary>
    private async Task ReconnectLoopAsync()
    {
        var failures = 0;
        while (!_stopping.IsCancellationRequested)
        {
            var connection = _connection;
            if (connection is { IsHealthy: true })
            {
                await connection.Failed.WaitAsync(_stopping.Token).ConfigureAwait(false);
                continue;
            }

            var delay = TimeSpan.FromMilliseconds(Math.Min(options.MaxReconnectBackoff.TotalMilliseconds, 50 * Math.Pow(2, Math.Min(failures, 16))));
            await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
            await _gate.WaitAsync(_stopping.Token).ConfigureAwait(false);
            try
            {
                _confirmations.Clear();
                var fresh = await EnsureConnectedAsync(_stopping.Token).ConfigureAwait(false);
                foreach (var channel in _channels.Keys)
                {
                    _ = Subscribe(fresh, channel);   // confirmation not awaited: the loop only restores
                }

                failures = 0;
            }
            catch (RedisException)
            {
                failures++;   // unreachable for now: the next turn waits longer and tries again
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>Pushes look the same in RESP2 (arrays) and RESP3 (push type): kind, channel, payload.</summary>
    private void OnFrame(RedisReply frame)
    {
        if (frame.Count < 3)
        {
            return;
        }

        var kind = frame[0].AsString();
        var channel = frame[1].AsString() ?? "";
        switch (kind)
        {
            case "message":
                if (_channels.TryGetValue(channel, out var list))
                {
                    var message = new RedisPubSubMessage(channel, frame[2].AsBytes() ?? []);
                    lock (list)
                    {
                        foreach (var subscription in list)
                        {
                            subscription.Deliver(message);
                        }
                    }
                }

                break;
            case "subscribe":
                if (_confirmations.TryGetValue(channel, out var confirmation))
                {
                    confirmation.TrySetResult();
                }

                break;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _reconnectLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // the loop ends by cancellation
        }

        if (_connection is { } connection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var list in _channels.Values)
        {
            lock (list)
            {
                list.ForEach(s => s.Complete());
            }
        }

        _stopping.Dispose();
        _gate.Dispose();
    }
}
