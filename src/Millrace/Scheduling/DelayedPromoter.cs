using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Moves due delayed messages into their partition's stream. It sleeps until the next due time
/// (never longer than <see cref="MaxSleep"/>) instead of polling on a fixed tick, and wakes early
/// when a message due sooner is scheduled (announced on the queue's events channel). Any number of
/// workers run it for the same queue: the promotion script moves each message exactly once.
/// </summary>
internal sealed class DelayedPromoter(IRedisClient redis, QueueKeys keys, ILogger logger, TimeProvider time)
{
    /// <summary>Longest sleep: bounds the lateness when a wake-up announcement is lost.</summary>
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Messages per script call. A call holds Redis for its whole run (about 10 µs a message here):
    /// 64 keeps that under a millisecond, so a backlog of due messages does not stall other clients.
    /// </summary>
    private const int Batch = 64;

    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Something was scheduled: every partition looks again now.</summary>
    public void Wake() => Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task RunAsync(int partition, CancellationToken cancellationToken)
    {
        var command = DelayScripts.Promote.Command([keys.Delayed(partition), keys.DelayedBodies(partition), .. keys.LevelStreams(partition)], [Batch]);
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var wake = _wake.Task;
            TimeSpan sleep;
            try
            {
                // Checkpoint: promotion is one script; a crash before it leaves the message delayed, after it, in the stream.
                var reply = await redis.ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
                failures = 0;
                var (moved, next, now) = (reply[0].AsInt64(), reply[1].AsInt64(), reply[2].AsInt64());
                if (moved == Batch)
                {
                    continue;   // more are due right now
                }

                sleep = next < 0 ? MaxSleep : TimeSpan.FromMilliseconds(Math.Clamp(next - now, 0, MaxSleep.TotalMilliseconds));
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (RedisException e)
            {
                failures++;
                ControlLog.PromoteFailed(logger, e, keys.Stream(partition));
                sleep = TimeSpan.FromMilliseconds(Math.Min(2000, 50 * Math.Pow(2, Math.Min(failures, 6))));
            }

            if (sleep <= TimeSpan.Zero)
            {
                continue;
            }

            try
            {
                await wake.WaitAsync(sleep, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // due time reached
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
