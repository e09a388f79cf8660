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
    }

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
