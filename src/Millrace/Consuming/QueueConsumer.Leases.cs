using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

public sealed partial class QueueConsumer
{
    /// <summary>
    /// Keeps running handlers' entries from looking abandoned: every third of the visibility timeout,
    /// their idle time is reset (only for entries this consumer still owns). A consumer that dies
    /// stops renewing, and its entries become reclaimable one visibility timeout later.
    /// </summary>
    private async Task LeaseLoopAsync()
    {
        using var timer = new PeriodicTimer(Options.VisibilityTimeout / 3, _runtime.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(_renewing.Token).ConfigureAwait(false))
            {
                await RenewLeasesAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped after the last handler finished.
        }
    }

    private async Task RenewLeasesAsync()
    {
        var commands = new List<RedisCommand>();
        for (var p = 0; p < _running.Length; p++)
        {
            var ids = _running[p].Keys.ToArray();
            if (ids.Length > 0)
            {
                commands.Add(ConsumerScripts.RenewLeases.Command([_keys.Stream(p / _keys.Levels, p % _keys.Levels)], [Options.Group, Name, .. ids.Select(i => (RedisArg)i)]));
            }
        }

        if (commands.Count == 0)
        {
            return;
        }

        try
        {
            await _runtime.Redis.ExecuteBatchAsync(commands, _renewing.Token).ConfigureAwait(false);
        }
        catch (RedisException e)
        {
            // Not renewed this time: the next tick tries again, well before the visibility timeout runs out.
            ConsumerLog.RenewFailed(_logger, e, Name);
        }
    }

    /// <summary>
    /// Takes over entries idle longer than the visibility timeout (their consumer died or stalled),
    /// as many as this process has room for, and hands them to the handlers as redeliveries.
    /// Entries deleted from the stream while pending are dropped from the pending list.
    /// </summary>
    private async Task ReclaimLoopAsync()
    {
        using var timer = new PeriodicTimer(Options.EffectiveReclaimInterval, _runtime.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(_fetching.Token).ConfigureAwait(false))
            {
                for (var lane = 0; lane < _running.Length && !_fetching.IsCancellationRequested && !_control.Paused; lane++)
                {
                    await ReclaimAsync(lane / _keys.Levels, lane % _keys.Levels).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task ReclaimAsync(int partition, int level)
    {
        var stream = _keys.Stream(partition, level);
        var cursor = "0-0";
        do
        {
            var credits = _credits.TakeAvailable(Options.FetchCount);
            if (credits == 0)
            {
                return;   // busy: a consumer with room will take them
            }

            AutoClaimResult claimed;
            try
            {
                // Checkpoint: claimed entries move to this consumer's pending list; a crash now leaves them for the next reclaim.
                claimed = await _runtime.Redis.XAutoClaimAsync(stream, Options.Group, Name, Options.VisibilityTimeout, cursor, credits, _fetching.Token).ConfigureAwait(false);
            }
            catch (RedisServerException e) when (IsDeleted(e))
            {
                _credits.Return(credits);
                StopBecauseDeleted($"{e.ErrorCode} on reclaim of {stream}");
                return;
            }
            catch (RedisException e)
            {
                _credits.Return(credits);
                ConsumerLog.ReclaimFailed(_logger, e, Name, stream);
                return;
            }

            _credits.Return(credits - claimed.Entries.Count);
            if (claimed.DeletedIds.Count > 0)
            {
                // Already gone from the stream (trimmed or deleted): nothing to run; drop them from the pending list.
                await _runtime.Redis.XAckAsync(stream, Options.Group, claimed.DeletedIds, _fetching.Token).ConfigureAwait(false);
            }

            if (claimed.Entries.Count > 0)
            {
                _runtime.Telemetry.Reclaimed.Add(claimed.Entries.Count, _tags);
                ConsumerLog.Reclaimed(_logger, Name, claimed.Entries.Count, stream);
            }

            foreach (var entry in claimed.Entries)
            {
                Hand(new Delivery(entry, partition, Redelivered: true, level));
            }

            cursor = claimed.NextId;
        }
        while (cursor != "0-0");
    }
}
