using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Millrace;

public sealed partial class QueueConsumer
{
    /// <summary>
    /// Gathers messages of types that have a batch handler. A batch runs when it reaches its size, or
    /// when its first message has waited <see cref="BatchOptions.MaxWait"/>. The whole batch is
    /// acknowledged when the handler returns; if it throws, every message of it stays pending.
    /// </summary>
    private sealed class BatchCollector : IAsyncDisposable
    {
        private readonly QueueConsumer _consumer;
        private readonly Lock _gate = new();
        private readonly Dictionary<string, Forming> _forming = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<Task, bool> _runningBatches = new();
        private readonly CancellationTokenSource _stopping = new();
        private readonly Task _flushLoop;

        public BatchCollector(QueueConsumer consumer)
        {
            _consumer = consumer;
            _flushLoop = Task.Run(FlushLoopAsync);
        }

        public void Add(HandlerRegistry.BatchHandler handler, Delivery delivery, Message message)
        {
            List<(Delivery, Message)>? full = null;
            lock (_gate)
            {
                if (!_forming.TryGetValue(handler.Type, out var forming))
                {
                    _forming[handler.Type] = forming = new Forming(handler, Stopwatch.GetTimestamp());
                }

                // Its lease is renewed from the moment it waits in a batch.
                _consumer._running[_consumer.Lane(delivery)][delivery.Entry.Id] = 0;
                forming.Items.Add((delivery, message));
                if (forming.Items.Count >= handler.Options.Size)
                {
                    _forming.Remove(handler.Type);
                    full = forming.Items;
                }
            }

            if (full is not null)
            {
                Start(handler, full);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await _flushLoop.ConfigureAwait(false);
            FlushDue(all: true);   // what is gathered runs now, within the shutdown deadline
            await Task.WhenAll(_runningBatches.Keys).ConfigureAwait(false);
            _stopping.Dispose();
        }

        private async Task FlushLoopAsync()
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(5));
            try
            {
                while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
                {
                    FlushDue(all: false);
                }
            }
            catch (OperationCanceledException)
            {
                // stopping
            }
        }

        private void FlushDue(bool all)
        {
            List<Forming>? due = null;
            lock (_gate)
            {
                foreach (var forming in _forming.Values)
                {
                    if (all || Stopwatch.GetElapsedTime(forming.StartedAt) >= forming.Handler.Options.MaxWait)
                    {
                        (due ??= []).Add(forming);
                    }
                }

                foreach (var forming in due ?? [])
                {
                    _forming.Remove(forming.Handler.Type);
                }
            }

            foreach (var forming in due ?? [])
            {
                Start(forming.Handler, forming.Items);
            }
        }

        private void Start(HandlerRegistry.BatchHandler handler, List<(Delivery Delivery, Message Message)> items)
        {
            var run = RunBatchAsync(handler, items);
            _runningBatches[run] = true;
            run.ContinueWith(t => _runningBatches.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        private async Task RunBatchAsync(HandlerRegistry.BatchHandler handler, List<(Delivery Delivery, Message Message)> items)
        {
            await Task.Yield();
            var consumer = _consumer;
            var tags = new TagList { consumer._tags[0], consumer._tags[1], { "type", handler.Type } };
            var started = Stopwatch.GetTimestamp();
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(consumer._aborting.Token);
            if (handler.Options.Timeout != Timeout.InfiniteTimeSpan)
            {
                cancel.CancelAfter(handler.Options.Timeout);
            }

            var scope = consumer._scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                try
                {
                    var contexts = items.Select(i => new MessageContext(i.Message, i.Delivery.Redelivered, consumer.Options.Group, consumer.Name, scope.ServiceProvider)).ToArray();
                    await consumer.TrackAllAsync(items.Select(i => i.Message), m => consumer._runtime.Tasks.Started(m)).ConfigureAwait(false);
                    await handler.Invoke(scope.ServiceProvider, contexts, cancel.Token).ConfigureAwait(false);
                    foreach (var (delivery, _) in items)
                    {
                        // Checkpoint: the batch succeeded; a crash before these acks land means the batch runs again.
                        consumer._acks.Writer.TryWrite((consumer.Lane(delivery), delivery.Entry.Id));
                    }

                    consumer._runtime.Telemetry.Processed.Add(items.Count, tags);
                    consumer._runtime.Statistics.Processed(consumer.Options.Queue, items.Count);
                    var results = contexts.ToDictionary(c => c.Message, c => c.Result);
                    await consumer.TrackAllAsync(items.Select(i => i.Message), m => consumer._runtime.Tasks.Succeeded(m, results[m])).ConfigureAwait(false);
                    var breaker = consumer.Breaker(handler.Type);
                    await consumer.ReportBreakerAsync(breaker, breaker.RecordSuccess()).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (consumer._aborting.IsCancellationRequested)
                {
                    // Cancelled by shutdown: the batch stays pending for a reclaim; no attempt is counted.
                }
                catch (Exception e)
                {
                    consumer._runtime.Telemetry.Failed.Add(items.Count, tags);
                    consumer._runtime.Statistics.Failed(consumer.Options.Queue, items.Count);
                    ConsumerLog.BatchFailed(consumer._logger, e, consumer.Name, handler.Type, items.Count);
                    await consumer.RecordBreakerFailureAsync(consumer.Breaker(handler.Type), handler.Type, e).ConfigureAwait(false);
                    foreach (var (delivery, message) in items)
                    {
                        // Each message follows its own attempt count: retried later, or buried.
                        await consumer.FailAsync(delivery, message, e).ConfigureAwait(false);
                    }
                }
                finally
                {
                    consumer._runtime.Telemetry.HandlerDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
                    foreach (var (delivery, _) in items)
                    {
                        consumer._running[consumer.Lane(delivery)].TryRemove(delivery.Entry.Id, out _);
                    }

                    consumer._credits.Return(items.Count);
                }
            }
        }

        private sealed record Forming(HandlerRegistry.BatchHandler Handler, long StartedAt)
        {
            public List<(Delivery Delivery, Message Message)> Items { get; } = [];
        }
    }
}
