namespace Millrace;

public sealed partial class QueueConsumer
{
    /// <summary>Messages waiting for a flow permit, one FIFO queue per type and tenant, each drained by its own loop.</summary>
    private readonly Dictionary<string, Queue<(Delivery Delivery, Message Message)>> _flowWaiting = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, bool> _flowWaiters = new();
    private readonly Lock _flowGate = new();

    /// <summary>
    /// One try at flow control. When the message must wait, it joins its type's waiting queue (keeping
    /// one in-flight credit and its lease) and null is returned: the handler slot goes on to other work,
    /// and the message comes back through the delivery channel with its permit once granted.
    /// </summary>
    private async ValueTask<FlowPermit?> TryEnterFlowAsync(Delivery delivery, Message message)
    {
        var key = message.Type + "\n" + message.Tenant;
        lock (_flowGate)
        {
            if (_flowWaiting.TryGetValue(key, out var queue))
            {
                WaitForFlow(queue, delivery, message);   // others of its kind already wait: no overtaking
                return null;
            }
        }

        if (await _runtime.Flow.TryEnterAsync(message.Type, message.Tenant, LeaseId(delivery), _fetching.Token).ConfigureAwait(false) is { } permit)
        {
            return permit;
        }

        lock (_flowGate)
        {
            if (!_flowWaiting.TryGetValue(key, out var queue))
            {
                _flowWaiting[key] = queue = new Queue<(Delivery, Message)>();
                var loop = Task.Run(() => FlowWaitLoopAsync(key, queue), CancellationToken.None);
                _flowWaiters[loop] = true;
                loop.ContinueWith(t => _flowWaiters.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            WaitForFlow(queue, delivery, message);
        }

        return null;
    }

    private void WaitForFlow(Queue<(Delivery, Message)> queue, Delivery delivery, Message message)
    {
        // The handler loop gives back the credit it took for this delivery; the waiting message keeps one of its own.
        _credits.Take(1);
        queue.Enqueue((delivery, message));
    }

    /// <summary>
    /// Waits for permits for one type (and tenant), first come first served, and hands each message back
    /// to the handlers with its permit. Stopping drops the rest: they stay pending for a reclaim.
    /// </summary>
    private async Task FlowWaitLoopAsync(string key, Queue<(Delivery Delivery, Message Message)> queue)
    {
        while (true)
        {
            (Delivery Delivery, Message Message) head;
            lock (_flowGate)
            {
                if (queue.Count == 0)
                {
                    _flowWaiting.Remove(key);
                    return;
                }

                head = queue.Peek();
            }

            FlowPermit permit;
            try
            {
                permit = await _runtime.Flow.EnterAsync(head.Message.Type, head.Message.Tenant, LeaseId(head.Delivery), _fetching.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_fetching.IsCancellationRequested)
            {
                await DropWaitingAsync(key, queue).ConfigureAwait(false);
                return;
            }
            catch (Redis.RedisException e)
            {
                // Flow control cannot be checked: this message is left pending (redelivered after its lease).
                ConsumerLog.FlowControlFailed(_logger, e, Name, head.Message.Type, head.Message.Id);
                lock (_flowGate)
                {
                    queue.Dequeue();
                }

                await DropAsync(head.Delivery).ConfigureAwait(false);
                _credits.Return(1);
                continue;
            }

            lock (_flowGate)
            {
                queue.Dequeue();
            }

            if (!_deliveries.Writer.TryWrite(head.Delivery with { Permit = permit }))
            {
                // Stopping: the channel is closed.
                await ReleaseAsync(permit).ConfigureAwait(false);
                await DropAsync(head.Delivery).ConfigureAwait(false);
                _credits.Return(1);
            }

            // Otherwise the credit it kept is given back by the handler loop that runs it.
        }
    }

    private async Task DropWaitingAsync(string key, Queue<(Delivery Delivery, Message Message)> queue)
    {
        (Delivery Delivery, Message Message)[] dropped;
        lock (_flowGate)
        {
            dropped = [.. queue];
            queue.Clear();
            _flowWaiting.Remove(key);
        }

        foreach (var (delivery, _) in dropped)
        {
            await DropAsync(delivery).ConfigureAwait(false);
            _credits.Return(1);
        }
    }

    private string LeaseId(Delivery delivery) => $"{Name}:{delivery.Entry.Id}";

    /// <summary>Waits for the flow-waiting loops to end (they end as soon as fetching stops).</summary>
    private Task FlowWaitersStoppedAsync() => Task.WhenAll(_flowWaiters.Keys);
}
