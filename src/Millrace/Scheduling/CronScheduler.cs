using System.Globalization;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Runs cron jobs. Every instance computes the same ticks; each tick is published as a message
/// deduplicated by <c>cron:&lt;job&gt;:&lt;tick&gt;</c>, so however many instances fire it, exactly one
/// message is added. No leader, no lock to lose. A tick missed by every instance is handled by the
/// job's <see cref="MisfirePolicy"/> when one comes back.
/// </summary>
internal sealed partial class CronScheduler(IMessagePublisher publisher, TimeProvider time, ILogger logger)
{
    public async Task RunAsync(CronJobOptions job, CancellationToken cancellationToken)
    {
        var schedule = CronExpression.Parse(job.Schedule);
        var now = time.GetUtcNow();
        var last = job.Misfire == MisfirePolicy.FireOnce ? LatestTick(schedule, job, now) : null;
        if (last is { } missed)
        {
            // Catch-up at start: the latest tick within the window; if another instance fired it, the dedup key says so.
            await FireAsync(job, missed, cancellationToken).ConfigureAwait(false);
        }

        var after = now;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (schedule.GetNextOccurrence(after, job.TimeZone) is not { } tick)
            {
                Log.NoMoreTicks(logger, job.Name, job.Schedule);
                return;
            }

            var wait = tick - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            now = time.GetUtcNow();
            if (now - tick <= job.MisfireWindow)
            {
                await FireAsync(job, tick, cancellationToken).ConfigureAwait(false);
                after = tick;
            }
            else
            {
                // Woke far too late (a long stall): treat the gap like a misfire.
                var latest = job.Misfire == MisfirePolicy.FireOnce ? LatestTick(schedule, job, now) : null;
                if (latest is { } recent)
                {
                    await FireAsync(job, recent, cancellationToken).ConfigureAwait(false);
                }

                after = now;
            }
        }
    }

    /// <summary>The latest tick at or before <paramref name="now"/> and within the misfire window, if any.</summary>
    private static DateTimeOffset? LatestTick(CronExpression schedule, CronJobOptions job, DateTimeOffset now)
    {
        DateTimeOffset? latest = null;
        foreach (var tick in schedule.GetOccurrences(now - job.MisfireWindow, now, job.TimeZone))
        {
            latest = tick;
        }

        return latest;
    }

    private async Task FireAsync(CronJobOptions job, DateTimeOffset tick, CancellationToken cancellationToken)
    {
        var tickMs = tick.ToUnixTimeMilliseconds();
        for (var failures = 0; ; failures++)
        {
            try
            {
                var result = await publisher.PublishAsync(new OutgoingMessage
                {
                    Queue = job.Queue,
                    Type = job.Type,
                    Payload = job.Payload,
                    PartitionKey = "cron:" + job.Name,
                    DedupKey = $"cron:{job.Name}:{tickMs.ToString(CultureInfo.InvariantCulture)}",
                    DedupTtl = job.MisfireWindow + TimeSpan.FromHours(1),
                    Headers = new Dictionary<string, string>
                    {
                        ["cron_job"] = job.Name,
                        ["cron_tick"] = tick.ToString("O", CultureInfo.InvariantCulture),
                    },
                }, cancellationToken).ConfigureAwait(false);
                if (!result.Duplicate)
                {
                    Log.Fired(logger, job.Name, tick, result.MessageId);
                }

                return;
            }
            catch (RedisException e) when (failures < 5 && time.GetUtcNow() - tick < job.MisfireWindow)
            {
                Log.FireFailed(logger, e, job.Name, tick);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * (failures + 1)), time, cancellationToken).ConfigureAwait(false);
            }
            catch (RedisException e)
            {
                Log.FireFailed(logger, e, job.Name, tick);
                return;   // another instance may have fired it; if all failed, the tick is lost (logged)
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(201, LogLevel.Information, "Cron job {Job} fired for {Tick:O} as message {MessageId}")]
        public static partial void Fired(ILogger logger, string job, DateTimeOffset tick, string messageId);

        [LoggerMessage(202, LogLevel.Warning, "Cron job {Job} could not publish its tick {Tick:O}")]
        public static partial void FireFailed(ILogger logger, Exception error, string job, DateTimeOffset tick);

        [LoggerMessage(203, LogLevel.Warning, "Cron job {Job} ({Schedule}) has no further ticks; it stops")]
        public static partial void NoMoreTicks(ILogger logger, string job, string schedule);
    }
}
