using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// One consumer group on one queue, in this process. Loops, each owned and awaited here:
/// a fetcher per partition (own pending entries first, then new ones, blocking on the server),
/// <see cref="ConsumerOptions.Concurrency"/> handler workers, an acknowledger that batches XACKs,
/// a lease keeper for running handlers, and a reclaimer that takes over entries abandoned by dead
/// consumers. <see cref="Done"/> completes when it stops, and says why.
/// </summary>
public sealed partial class QueueConsumer : IAsyncDisposable
{
    private readonly MillraceRuntime _runtime;
    private readonly HandlerRegistry _handlers;
    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger _logger;
    private readonly QueueKeys _keys;
    private readonly InFlightCredits _credits;
    private readonly Channel<Delivery> _deliveries;
    private readonly Channel<(int Lane, string Id)> _acks = Channel.CreateUnbounded<(int, string)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, int>[] _running;   // per lane (partition, level): entries whose handler runs now
    private readonly CancellationTokenSource _fetching = new();      // cancelled first: stop taking work
    private readonly CancellationTokenSource _aborting = new();      // cancelled at the shutdown deadline: handlers' tokens fire
    private readonly CancellationTokenSource _renewing = new();      // cancelled last, once no handler runs: leases stop
    private readonly TaskCompletionSource<ConsumerStopReason> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly List<Task> _loops = [];
    private readonly SemaphoreSlim _stopGate = new(1, 1);
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.Ordinal);
    private readonly QueueControl _control;
    private readonly DelayedPromoter _promoter;
    private RedisSubscription? _events;
    private BatchCollector? _batches;
    private Task _ackLoop = Task.CompletedTask;
    private Task _leaseLoop = Task.CompletedTask;
    private long _lastFetchAt;
    private int _stopRequested;
    private int _disposed;

    internal QueueConsumer(MillraceRuntime runtime, ConsumerOptions options, HandlerRegistry handlers, IServiceScopeFactory scopes, ILogger logger)
    {
        _runtime = runtime;
        Options = options;
        _handlers = handlers;
        _scopes = scopes;
        _logger = logger;
        _keys = runtime.Keys(options.Queue);
        Name = options.ConsumerName ?? DefaultName();
        // A batch holds its messages until it runs, so the limit must fit the largest batch beside the single handlers.
        _credits = new InFlightCredits(Math.Max(options.EffectiveMaxInFlight, handlers.LargestBatch + options.Concurrency));
        _deliveries = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
        _running = Enumerable.Range(0, _keys.Partitions * _keys.Levels).Select(_ => new ConcurrentDictionary<string, int>(StringComparer.Ordinal)).ToArray();
        _tags = [new("queue", options.Queue), new("group", options.Group)];
        _control = new QueueControl(runtime.Redis, _keys, logger);
        _promoter = new DelayedPromoter(runtime.Redis, _keys, logger, runtime.Time);
    }

    /// <summary>This consumer's settings.</summary>
    public ConsumerOptions Options { get; }

    /// <summary>This process's consumer name in the group.</summary>
    public string Name { get; }

    /// <summary>Completes when the consumer has stopped: <see cref="ConsumerStopReason.Requested"/> or <see cref="ConsumerStopReason.QueueDeleted"/>.</summary>
    public Task<ConsumerStopReason> Done => _done.Task;

    /// <summary>Messages this consumer holds right now: read and not yet acknowledged, retried or dead-lettered.</summary>
    public int InFlight => _credits.Limit - _credits.Available;

    /// <summary>When a read from Redis last succeeded (a health signal: a silent fetch loop is a stuck worker).</summary>
    public DateTimeOffset LastFetchAt => DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Read(ref _lastFetchAt));

    /// <summary>Creates the group on every partition (if new, at the start position) and starts the loops.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _runtime.DeclareAsync(Options.Queue, cancellationToken).ConfigureAwait(false);
        for (var p = 0; p < _keys.Partitions; p++)
        {
            foreach (var stream in _keys.LevelStreams(p))
            {
                // Idempotent (BUSYGROUP is fine): after a failover that lost the group, it is created again.
                await _runtime.Redis.XGroupCreateAsync(stream, Options.Group, Options.StartIdForGroup, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        // Control state first, so a paused queue or a stopped message is honoured from the first read.
        _events = await _runtime.Redis.SubscribeAsync(_keys.Events, cancellationToken).ConfigureAwait(false);
        await _control.RefreshAsync(cancellationToken).ConfigureAwait(false);
        _batches = new BatchCollector(this);
        Interlocked.Exchange(ref _lastFetchAt, _runtime.Time.GetUtcNow().ToUnixTimeMilliseconds());
        _ackLoop = Task.Run(AcknowledgeLoopAsync, CancellationToken.None);
        for (var p = 0; p < _keys.Partitions; p++)
        {
            var partition = p;
            _loops.Add(Task.Run(() => FetchLoopAsync(partition), CancellationToken.None));
        }

        for (var w = 0; w < Options.Concurrency; w++)
        {
            _loops.Add(Task.Run(HandleLoopAsync, CancellationToken.None));
        }

        _leaseLoop = Task.Run(LeaseLoopAsync, CancellationToken.None);
        _loops.Add(Task.Run(ReclaimLoopAsync, CancellationToken.None));
        _loops.Add(Task.Run(EventLoopAsync, CancellationToken.None));
        _loops.Add(Task.Run(() => _control.PollAsync(_fetching.Token), CancellationToken.None));
        for (var p = 0; p < _keys.Partitions; p++)
        {
            var partition = p;
            _loops.Add(Task.Run(() => _promoter.RunAsync(partition, _fetching.Token), CancellationToken.None));
        }
        ConsumerLog.Started(_logger, Name, Options.Queue, _keys.Partitions, Options.Group, Options.Concurrency);
    }

    /// <summary>
    /// Graceful stop: stop fetching, let running handlers finish within <see cref="ConsumerOptions.ShutdownTimeout"/>
    /// (or until <paramref name="cancellationToken"/>), then cancel them. Messages not finished stay
    /// pending in the group, where a live consumer reclaims them after the visibility timeout.
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => StopCoreAsync(ConsumerStopReason.Requested, cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync().ConfigureAwait(false);
        await _stopping.ConfigureAwait(false);
        _fetching.Dispose();
        _aborting.Dispose();
        _renewing.Dispose();
        _stopGate.Dispose();
    }

    private async Task StopCoreAsync(ConsumerStopReason reason, CancellationToken cancellationToken)
    {
        Interlocked.CompareExchange(ref _stopRequested, 1, 0);
        await _stopGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_done.Task.IsCompleted)
            {
                return;
            }

            // Checkpoint: nothing new is read from here on. Entries already read but not started stay pending.
            await _fetching.CancelAsync().ConfigureAwait(false);
            _deliveries.Writer.TryComplete();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(Options.ShutdownTimeout);
            var work = Task.WhenAll(_loops);
            try
            {
                await work.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Deadline: running handlers get their cancellation; whatever they do not finish stays pending.
                ConsumerLog.ShutdownDeadline(_logger, Name, Options.Queue);
                await _aborting.CancelAsync().ConfigureAwait(false);
                await work.ConfigureAwait(false);
            }

            await FlowWaitersStoppedAsync().ConfigureAwait(false);
            if (_batches is not null)
            {
                await _batches.DisposeAsync().ConfigureAwait(false);
            }

            // Leases were renewed until the last handler finished, so none was reclaimed while still running here.
            await _renewing.CancelAsync().ConfigureAwait(false);
            await _leaseLoop.ConfigureAwait(false);

            _acks.Writer.TryComplete();
            await _ackLoop.ConfigureAwait(false);
            if (_events is not null)
            {
                await _events.DisposeAsync().ConfigureAwait(false);
            }

            ConsumerLog.Stopped(_logger, Name, Options.Queue, reason);
            _done.TrySetResult(reason);
        }
        finally
        {
            _stopGate.Release();
        }
    }

    /// <summary>The queue or group is gone: stop by ourselves (not awaited by the loop that noticed, which is one of those stopping).</summary>
    private void StopBecauseDeleted(string how)
    {
        if (Interlocked.CompareExchange(ref _stopRequested, 1, 0) != 0)
        {
            return;
        }

        ConsumerLog.QueueDeleted(_logger, Name, Options.Queue, Options.Group, how);
        _stopping = Task.Run(() => StopCoreAsync(ConsumerStopReason.QueueDeleted, CancellationToken.None));
    }

    private Task _stopping = Task.CompletedTask;

    /// <summary>Reacts to the queue's announcements: delayed messages due sooner, control changes, termination.</summary>
    private async Task EventLoopAsync()
    {
        try
        {
            await foreach (var message in _events!.Messages.ReadAllAsync(_fetching.Token).ConfigureAwait(false))
            {
                var text = System.Text.Encoding.UTF8.GetString(message.Payload);
                if (text.StartsWith(ControlFields.DueEventPrefix, StringComparison.Ordinal))
                {
                    _promoter.Wake();
                }
                else if (text == ControlFields.TerminatedEvent)
                {
                    StopBecauseDeleted("terminated by an operator");
                }
                else
                {
                    try
                    {
                        await _control.RefreshAsync(_fetching.Token).ConfigureAwait(false);
                    }
                    catch (RedisException e)
                    {
                        ControlLog.RefreshFailed(_logger, e, Options.Queue);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>A lane is one partition's stream at one priority level.</summary>
    private int Lane(Delivery delivery) => (delivery.Partition * _keys.Levels) + delivery.Level;

    private string StreamOf(Delivery delivery) => _keys.Stream(delivery.Partition, delivery.Level);

    private static bool IsDeleted(RedisServerException e) => e.ErrorCode is "NOGROUP" or "UNBLOCKED";

    private static string DefaultName() =>
        $"{Environment.MachineName}-{Environment.ProcessId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2))}";
}
