using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// The hosted service that runs this process's consumers. At start it checks that Redis answers
/// (a wrong address or password stops the host with a message that says so) and starts every
/// configured consumer; at stop (SIGTERM, SIGINT, host shutdown) it stops them gracefully.
/// </summary>
public sealed class MillraceWorkers : IHostedService, IAsyncDisposable
{
    private readonly MillraceRuntime _runtime;
    private readonly HandlerRegistry _handlers;
    private readonly IServiceScopeFactory _scopes;
    private readonly ILoggerFactory _logs;
    private readonly List<QueueConsumer> _consumers = [];
    private readonly List<Task> _cronJobs = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _workerId = $"{Environment.MachineName}:{Environment.ProcessId}:{Random.Shared.Next(0x10000):x4}";
    private DateTimeOffset _startedAt;
    private Task? _heartbeat;
    private Task? _permitRenewals;

    internal MillraceWorkers(MillraceRuntime runtime, HandlerRegistry handlers, IServiceScopeFactory scopes, ILoggerFactory? logs = null)
    {
        _runtime = runtime;
        _handlers = handlers;
        _scopes = scopes;
        _logs = logs ?? NullLoggerFactory.Instance;
    }

    /// <summary>The running consumers.</summary>
    public IReadOnlyList<QueueConsumer> Consumers => _consumers;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _runtime.Redis.PingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RedisException e)
        {
            throw new InvalidOperationException($"Millrace cannot start: {e.Message}", e);
        }

        foreach (var options in _runtime.Options.Consumers)
        {
            var consumer = new QueueConsumer(_runtime, options, _handlers, _scopes, _logs.CreateLogger<QueueConsumer>());
            await consumer.StartAsync(cancellationToken).ConfigureAwait(false);
            _consumers.Add(consumer);
        }

        if (_consumers.Count > 0)
        {
            _startedAt = _runtime.Time.GetUtcNow();
            await ReportAsync(cancellationToken).ConfigureAwait(false);
            _heartbeat = Task.Run(() => HeartbeatAsync(_stopping.Token), CancellationToken.None);
            var logger = _logs.CreateLogger<MillraceWorkers>();
            _permitRenewals = Task.Run(
                () => _runtime.Flow.RenewLoopAsync(
                    e =>
                    {
                        logger.LogWarning(e, "Concurrency permits could not be renewed; retrying at the next tick");
                        return Task.CompletedTask;
                    },
                    _stopping.Token),
                CancellationToken.None);
        }

        var cron = new CronScheduler(new MessagePublisher(_runtime), _runtime.Time, _logs.CreateLogger<CronScheduler>());
        foreach (var job in _runtime.Options.CronJobs)
        {
            _cronJobs.Add(Task.Run(() => cron.RunAsync(job, _stopping.Token), CancellationToken.None));
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_cronJobs).ConfigureAwait(false);
        await Task.WhenAll(_consumers.Select(c => c.StopAsync(cancellationToken))).ConfigureAwait(false);
        if (_permitRenewals is not null)
        {
            await _permitRenewals.ConfigureAwait(false);
        }

        if (_heartbeat is not null)
        {
            await _heartbeat.ConfigureAwait(false);
            try
            {
                await _runtime.Redis.ExecuteAsync(WorkerRegistry.Remove(_runtime.Prefix, _workerId), cancellationToken).ConfigureAwait(false);
            }
            catch (RedisException e)
            {
                // The entry goes stale and readers drop it after WorkerRegistry.StaleAfter.
                _logs.CreateLogger<MillraceWorkers>().LogWarning(e, "Could not remove worker {Worker} from the worker list", _workerId);
            }
        }
    }

    /// <summary>Reports this process to the worker list every <see cref="WorkerRegistry.Interval"/> until stopped.</summary>
    private async Task HeartbeatAsync(CancellationToken stopping)
    {
        var logger = _logs.CreateLogger<MillraceWorkers>();
        using var timer = new PeriodicTimer(WorkerRegistry.Interval, _runtime.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    await ReportAsync(stopping).ConfigureAwait(false);
                }
                catch (RedisException e)
                {
                    logger.LogWarning(e, "Worker heartbeat failed; the next one follows in {Interval}", WorkerRegistry.Interval);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task ReportAsync(CancellationToken cancellationToken) =>
        await _runtime.Redis.ExecuteAsync(
            WorkerRegistry.Report(_runtime.Prefix, new WorkerInfo(
                _workerId,
                Environment.MachineName,
                Environment.ProcessId,
                [.. _consumers.Select(c => c.Options.Queue).Distinct(StringComparer.Ordinal)],
                _startedAt,
                _runtime.Time.GetUtcNow(),
                _runtime.Statistics.TotalProcessed,
                _runtime.Statistics.TotalFailed,
                _consumers.Sum(c => c.InFlight))),
            cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // The container may dispose this twice (it is also the hosted service): consumers ignore the second time.
        foreach (var consumer in _consumers)
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
        }
    }
}
