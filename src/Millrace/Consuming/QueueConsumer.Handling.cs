using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Millrace;

public sealed partial class QueueConsumer
{
    private async Task HandleLoopAsync()
    {
        await foreach (var delivery in _deliveries.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (_fetching.IsCancellationRequested)
            {
                // Stopping: do not start new work. The entry stays pending and is reclaimed elsewhere.
                _credits.Return(1);
                continue;
            }

            await HandleAsync(delivery).ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(Delivery delivery)
    {
        Message message;
        try
        {
            message = Envelope.Decode(delivery.Entry, Options.Queue, delivery.Partition);
        }
        catch (EnvelopeException e)
        {
            // Poison input: left pending (never acknowledged, never lost) until failure handling moves it aside.
            _runtime.Telemetry.Failed.Add(1, _tags);
            ConsumerLog.Poison(_logger, Name, delivery.Entry.Id, Options.Queue, e.Message);
            _credits.Return(1);
            return;
        }

        if (_handlers.Batch(message.Type) is { } batchHandler)
        {
            // The batch collector owns the credit from here and gives it back when the batch is done.
            _batches!.Add(batchHandler, delivery, message);
            return;
        }

        if (_handlers.Single(message.Type) is not { } handler)
        {
            _runtime.Telemetry.Failed.Add(1, _tags);
            ConsumerLog.NoHandler(_logger, Name, message.Type, message.Id, Options.Queue);
            _credits.Return(1);
            return;
        }

        var running = _running[delivery.Partition];
        running[delivery.Entry.Id] = 0;   // from now on the lease keeper renews it
        try
        {
            if (await RunAsync(message, delivery, (context, token) => handler.Invoke(context, token), Options.HandlerTimeout).ConfigureAwait(false))
            {
                // Checkpoint: the handler succeeded. Until the ack reaches Redis a crash means one more delivery, never a loss.
                _acks.Writer.TryWrite((delivery.Partition, delivery.Entry.Id));
            }
        }
        finally
        {
            running.TryRemove(delivery.Entry.Id, out _);
            _credits.Return(1);
        }
    }

    /// <summary>Runs one handler in its own scope and activity, with metrics; false when it failed (it is logged).</summary>
    private async Task<bool> RunAsync(Message message, Delivery delivery, Func<MessageContext, CancellationToken, Task> invoke, TimeSpan timeout)
    {
        var tags = new TagList { _tags[0], _tags[1], { "type", message.Type } };
        var started = Stopwatch.GetTimestamp();
        var latency = (_runtime.Time.GetUtcNow() - message.CreatedAt).TotalSeconds;
        _runtime.Telemetry.EndToEndLatency.Record(Math.Max(0, latency), tags);

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
                await invoke(new MessageContext(message, delivery.Redelivered, Options.Group, Name, scope.ServiceProvider), cancel.Token).ConfigureAwait(false);
                _runtime.Telemetry.Processed.Add(1, tags);
                return true;
            }
            catch (Exception e)
            {
                // Left pending: after the visibility timeout a consumer reclaims it and it runs again.
                _runtime.Telemetry.Failed.Add(1, tags);
                activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                ConsumerLog.HandlerFailed(_logger, e, Name, message.Type, message.Id, Options.Queue);
                return false;
            }
            finally
            {
                _runtime.Telemetry.HandlerDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
            }
        }
    }
}
