using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Millrace;

public sealed partial class QueueConsumer
{
    private enum Outcome
    {
        Succeeded,
        Failed,
        Aborted,
    }

    private async Task HandleLoopAsync()
    {
        await foreach (var delivery in _deliveries.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (_fetching.IsCancellationRequested)
            {
                // Stopping: do not start new work. The entry stays pending and is reclaimed elsewhere.
                await DropAsync(delivery).ConfigureAwait(false);
                _credits.Return(1);
                continue;
            }

            var handedOff = false;
            try
            {
                if (_control.Paused && !await WaitOutPauseAsync().ConfigureAwait(false))
                {
                    await DropAsync(delivery).ConfigureAwait(false);
                    continue;   // stopping while paused: the entry stays pending for a reclaim
                }

                handedOff = await HandleAsync(delivery).ConfigureAwait(false);
            }
            finally
            {
                if (!handedOff)
                {
                    // Done with it (acked, retried, buried or left pending): its lease is no longer renewed here,
                    // and a permit it was granted while waiting is given back whatever path it took.
                    await DropAsync(delivery).ConfigureAwait(false);
                }

                _credits.Return(1);
            }
        }
    }

    /// <summary>A message read before a pause waits for the resume, its lease renewed meanwhile; false when stopping.</summary>
    private async Task<bool> WaitOutPauseAsync()
    {
        try
        {
            await _control.WaitWhilePausedAsync(_fetching.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// A delivery not run here (stopping): its lease is no longer renewed, so it is reclaimed
    /// elsewhere after the visibility timeout, and a flow permit it was granted is given back.
    /// </summary>
    private async Task DropAsync(Delivery delivery)
    {
        _running[Lane(delivery)].TryRemove(delivery.Entry.Id, out _);
        if (delivery.Permit is { } permit)
        {
            await ReleaseAsync(permit).ConfigureAwait(false);
        }
    }

    /// <summary>Handles one delivery; true when it was handed on (to a batch, or to wait for flow control) and is still held.</summary>
    private async Task<bool> HandleAsync(Delivery delivery)
    {
        var payloadBytes = delivery.Entry.Get(EnvelopeFields.Payload)?.Length ?? 0;
        if (payloadBytes > _runtime.Options.MaxPayloadBytes || EntryBytes(delivery.Entry) - payloadBytes > EnvelopeAllowance)
        {
            await BuryAsync(delivery, null, "oversized", new InvalidOperationException(
                $"The entry has a {payloadBytes}-byte payload and {EntryBytes(delivery.Entry) - payloadBytes} bytes of other fields; the limits are {_runtime.Options.MaxPayloadBytes} (MaxPayloadBytes) and {EnvelopeAllowance}.")).ConfigureAwait(false);
            return false;
        }

        Message message;
        try
        {
            message = Envelope.Decode(delivery.Entry, Options.Queue, delivery.Partition);
        }
        catch (EnvelopeException e)
        {
            // Poison input: to the dead-letter queue with the reason; the worker goes on.
            await BuryAsync(delivery, null, "poison", e).ConfigureAwait(false);
            return false;
        }

        if ((_control.IsStopped(message.Id) || _control.IsTypePaused(message.Type)) && await StillHeldAsync(message).ConfigureAwait(false))
        {
            // Checkpoint: parked out of the stream in one step with its ack; resuming puts it back.
            await ParkAsync(delivery, message).ConfigureAwait(false);
            return false;
        }

        var breaker = Breaker(message.Type);
        var allowed = breaker.AllowsRun(_runtime.Time.GetUtcNow(), out var wait, out var halfOpened);
        await ReportBreakerAsync(breaker, halfOpened).ConfigureAwait(false);
        if (!allowed)
        {
            // The type's circuit is open: the message waits out the cool-down; no attempt is counted.
            await ScheduleAgainAsync(delivery, $"{message.Id}:{message.Attempt}:held", delivery.Entry.Fields, _runtime.Time.GetUtcNow() + wait).ConfigureAwait(false);
            return false;
        }

        if (_handlers.Batch(message.Type) is { } batchHandler)
        {
            // The batch collector takes a credit of its own and gives it back when the batch is done.
            _credits.Take(1);
            _batches!.Add(batchHandler, delivery, message);
            return true;
        }

        if (_handlers.Single(message.Type) is not { } handler)
        {
            await BuryAsync(delivery, message, "no-handler", new InvalidOperationException($"No handler is registered for message type '{message.Type}'.")).ConfigureAwait(false);
            return false;
        }

        FlowPermit permit;
        if (delivery.Permit is { } granted)
        {
            permit = granted;   // it waited for flow control and was granted meanwhile
        }
        else
        {
            try
            {
                // Flow control: a message that must wait for a permit or a token waits aside, its lease
                // renewed, so it never holds a handler slot that other types could use.
                if (await TryEnterFlowAsync(delivery, message).ConfigureAwait(false) is not { } now)
                {
                    return true;
                }

                permit = now;
            }
            catch (OperationCanceledException) when (_fetching.IsCancellationRequested)
            {
                return false;   // stopping: left pending for a reclaim, no attempt counted
            }
            catch (Redis.RedisException e)
            {
                // Flow control cannot be checked: the entry stays pending and is delivered again after its lease.
                ConsumerLog.FlowControlFailed(_logger, e, Name, message.Type, message.Id);
                return false;
            }
        }

        try
        {
            // The task record's "processing" is written while the handler runs, and awaited before its outcome is.
            var started = TrackAsync(_runtime.Tasks.Enabled ? _runtime.Tasks.Started(message) : null, message);
            var (outcome, error, result) = await RunAsync(message, delivery, (context, token) => handler.Invoke(context, token), Options.HandlerTimeout).ConfigureAwait(false);
            await started.ConfigureAwait(false);
            switch (outcome)
            {
                case Outcome.Succeeded:
                    // Checkpoint: the handler succeeded. Until the ack reaches Redis a crash means one more delivery, never a loss.
                    _acks.Writer.TryWrite((Lane(delivery), delivery.Entry.Id));
                    await ReportBreakerAsync(breaker, breaker.RecordSuccess()).ConfigureAwait(false);
                    await TrackAsync(_runtime.Tasks.Enabled ? _runtime.Tasks.Succeeded(message, result) : null, message).ConfigureAwait(false);
                    break;
                case Outcome.Failed:
                    await RecordBreakerFailureAsync(breaker, message.Type, error!).ConfigureAwait(false);
                    await FailAsync(delivery, message, error!).ConfigureAwait(false);
                    break;
                default:
                    break;   // cancelled by shutdown: left pending for a reclaim, no attempt counted
            }
        }
        finally
        {
            await ReleaseAsync(permit).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>Runs one handler in its own scope and activity, with metrics and its timeout.</summary>
    private async Task<(Outcome Outcome, Exception? Error, string? Result)> RunAsync(Message message, Delivery delivery, Func<MessageContext, CancellationToken, Task> invoke, TimeSpan timeout)
    {
        var tags = new TagList { _tags[0], _tags[1], { "type", message.Type } };
        var started = Stopwatch.GetTimestamp();
        _runtime.Telemetry.EndToEndLatency.Record(Math.Max(0, (_runtime.Time.GetUtcNow() - message.CreatedAt).TotalSeconds), tags);
        using var activity = MillraceTelemetry.Activities.HasListeners()
            ? MillraceTelemetry.Activities.StartActivity($"process {Options.Queue}", ActivityKind.Consumer, TraceContext.Extract(message.Headers))
            : null;
        activity?.SetTag("messaging.message.id", message.Id);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_aborting.Token);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            cancel.CancelAfter(timeout);
        }

        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            try
            {
                var context = new MessageContext(message, delivery.Redelivered, Options.Group, Name, scope.ServiceProvider);
                await invoke(context, cancel.Token).ConfigureAwait(false);
                _runtime.Telemetry.Processed.Add(1, tags);
                _runtime.Statistics.Processed(Options.Queue, 1);
                return (Outcome.Succeeded, null, context.Result);
            }
            catch (OperationCanceledException) when (_aborting.IsCancellationRequested)
            {
                return (Outcome.Aborted, null, null);
            }
            catch (Exception e)
            {
                var error = e is OperationCanceledException && cancel.IsCancellationRequested
                    ? new TimeoutException($"The handler for {message.Type} ran longer than its timeout ({timeout.TotalMilliseconds:0} ms) and was cancelled.", e)
                    : e;
                _runtime.Telemetry.Failed.Add(1, tags);
                _runtime.Statistics.Failed(Options.Queue, 1);
                activity?.SetStatus(ActivityStatusCode.Error, error.Message);
                ConsumerLog.HandlerFailed(_logger, error, Name, message.Type, message.Id, Options.Queue);
                return (Outcome.Failed, error, null);
            }
            finally
            {
                _runtime.Telemetry.HandlerDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            }
        }
    }

    /// <summary>
    /// Writes a task record change (nothing when <paramref name="change"/> is null: tracking is off).
    /// Records are for inspection: a failed write is logged and the message goes on.
    /// </summary>
    private async Task TrackAsync(Redis.RedisCommand? change, Message message)
    {
        if (change is null)
        {
            return;
        }

        try
        {
            (await _runtime.Redis.ExecuteAsync(change, CancellationToken.None).ConfigureAwait(false)).ThrowIfError("task record");
        }
        catch (Redis.RedisException e)
        {
            ConsumerLog.TrackingFailed(_logger, e, Name, message.Id, Options.Queue);
        }
    }

    /// <summary>Writes the same change for many messages in one round trip (a batch's start or success).</summary>
    private async Task TrackAllAsync(IEnumerable<Message> messages, Func<Message, Redis.RedisCommand> change)
    {
        if (!_runtime.Tasks.Enabled)
        {
            return;
        }

        var batch = messages.ToArray();
        try
        {
            foreach (var reply in await _runtime.Redis.ExecuteBatchAsync([.. batch.Select(change)], CancellationToken.None).ConfigureAwait(false))
            {
                reply.ThrowIfError("task record");
            }
        }
        catch (Redis.RedisException e)
        {
            ConsumerLog.TrackingFailed(_logger, e, Name, batch[0].Id, Options.Queue);
        }
    }

    /// <summary>Gives the concurrency permit back; if Redis is unreachable it expires after its lease time instead.</summary>
    private async Task ReleaseAsync(FlowPermit permit)
    {
        try
        {
            await _runtime.Flow.ExitAsync(permit).ConfigureAwait(false);
        }
        catch (Redis.RedisException e)
        {
            ConsumerLog.FlowControlFailed(_logger, e, Name, permit.Type ?? "", "(release)");
        }
    }

    private CircuitBreaker Breaker(string type) =>
        _breakers.GetOrAdd(type, t => new CircuitBreaker(t, _runtime.Options.CircuitBreakerFor(t)));

    /// <summary>
    /// Only failures a retry could cure count toward opening the circuit: a burst of malformed or
    /// non-retriable messages says nothing about the health of what the handler depends on.
    /// </summary>
    private async Task RecordBreakerFailureAsync(CircuitBreaker breaker, string type, Exception error)
    {
        if (_runtime.Options.RetryFor(type).IsRetriable(error))
        {
            await ReportBreakerAsync(breaker, breaker.RecordFailure(_runtime.Time.GetUtcNow())).ConfigureAwait(false);
        }
    }

    /// <summary>Before parking, the control state is read afresh: a resume may have just put this message back.</summary>
    private async Task<bool> StillHeldAsync(Message message)
    {
        try
        {
            await _control.RefreshAsync(_fetching.Token).ConfigureAwait(false);
        }
        catch (Redis.RedisException e)
        {
            ControlLog.RefreshFailed(_logger, e, Options.Queue);
        }

        return _control.IsStopped(message.Id) || _control.IsTypePaused(message.Type);
    }

    /// <summary>Publishes a circuit's new state where operators can read it (best effort: the breaker works without it).</summary>
    private async Task ReportBreakerAsync(CircuitBreaker breaker, bool changed)
    {
        if (!changed)
        {
            return;
        }

        ConsumerLog.CircuitChanged(_logger, Name, breaker.Type, Options.Queue, breaker.State);
        _runtime.Telemetry.CircuitChanges.Add(1, new TagList { _tags[0], _tags[1], { "type", breaker.Type }, { "state", breaker.State.ToString() } });
        var state = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["state"] = breaker.State.ToString(),
            ["consumer"] = Name,
            ["group"] = Options.Group,
            ["open_until"] = breaker.OpenUntil.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["changed_at"] = _runtime.Time.GetUtcNow().ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, HeadersJson.Default.DictionaryStringString);
        try
        {
            await Redis.HashCommands.HSetAsync(_runtime.Redis, _keys.Breakers, [new($"{Options.Group}:{breaker.Type}", state)]).ConfigureAwait(false);
        }
        catch (Redis.RedisException e)
        {
            ConsumerLog.RenewFailed(_logger, e, Name);
        }
    }

    /// <summary>Room for the envelope's other fields (id, type, headers...) beside the payload.</summary>
    private const int EnvelopeAllowance = 64 * 1024;

    private static long EntryBytes(Redis.StreamEntry entry)
    {
        long total = 0;
        foreach (var field in entry.Fields)
        {
            total += field.Value.Length + field.Name.Length;
        }

        return total;
    }
}
