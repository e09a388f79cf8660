using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

/// <summary>Adds this process's counts to the shared per-minute statistics once a second, and once more at stop.</summary>
internal sealed partial class StatisticsFlusher(MillraceRuntime runtime, ILogger<StatisticsFlusher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, runtime.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await FlushAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the last flush happens in StopAsync.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await runtime.Statistics.FlushAsync(runtime.Redis, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisException e)
        {
            FlushFailed(logger, e);   // counts are kept and go with the next flush
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Millrace statistics could not be written to Redis; they are kept for the next try")]
    private static partial void FlushFailed(ILogger logger, Exception error);
}
