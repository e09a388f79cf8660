using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// The periodic retention sweep: at start and then every <see cref="RetentionOptions.Interval"/>, it
/// cleans each queue that has a <see cref="QueueOptions.Retention"/> policy. Any number of processes
/// may run it: each script call is atomic and deletes only what may go, so two sweeps at once only
/// share the work. A failure is logged and the sweep goes on with the next queue and the next tick.
/// </summary>
internal sealed class RetentionService(MillraceRuntime runtime, ILogger<RetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queues = runtime.Options.Queues.Where(q => q.Value.Retention is not null).Select(q => (Name: q.Key, Policy: q.Value.Retention!)).ToArray();
        if (queues.Length == 0)
        {
            return;   // nothing configured: no loop at all
        }

        var options = runtime.Options.Retention;
        var cleaner = new RetentionCleaner(runtime.Redis, options);
        RetentionLog.Started(logger, queues.Length, options.Interval);
        using var timer = new PeriodicTimer(options.Interval, runtime.Time);
        try
        {
            do
            {
                foreach (var (queue, policy) in queues)
                {
                    await SweepAsync(cleaner, queue, policy, stoppingToken).ConfigureAwait(false);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutdown: a batch cut short leaves the stream partly cleaned, which the next start finishes
        }
    }

    private async Task SweepAsync(RetentionCleaner cleaner, string queue, RetentionPolicy policy, CancellationToken stoppingToken)
    {
        try
        {
            var keys = runtime.Keys(queue);
            var declared = await runtime.Redis.ExecuteAsync(new RedisCommand("SISMEMBER", [QueueKeys.Registry(runtime.Prefix), queue], 0), stoppingToken).ConfigureAwait(false);
            if (declared.AsInt64() == 0)
            {
                RetentionLog.NotDeclared(logger, queue);
                return;
            }

            var result = await cleaner.CleanAsync(keys, policy, stoppingToken).ConfigureAwait(false);
            if (result.Deleted > 0)
            {
                RetentionLog.Cleaned(logger, result.Deleted, queue, policy);
            }

            if (result.IgnoredGroups.Count > 0)
            {
                RetentionLog.InactiveGroups(logger, queue, string.Join(", ", result.IgnoredGroups), runtime.Options.Retention.InactiveGroupTimeout ?? TimeSpan.Zero, policy.MaxAge);
            }
        }
        catch (RedisException e)
        {
            RetentionLog.Failed(logger, e, queue);
        }
    }
}
