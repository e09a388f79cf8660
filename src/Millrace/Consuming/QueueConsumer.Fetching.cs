using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

public sealed partial class QueueConsumer
{
    /// <summary>
    /// Reads one partition: first this consumer's own pending entries (left by a previous run under
    /// the same name), then new entries, waiting on the server for up to <see cref="ConsumerOptions.BlockFor"/>.
    /// </summary>
    private async Task FetchLoopAsync(int partition)
    {
        var stream = _keys.Stream(partition);
        var cursor = "0";   // "0": own pending entries; ">" once those are done
        var failures = 0;
        while (!_fetching.IsCancellationRequested)
        {
            int credits;
            try
            {
                // A paused queue reads nothing: running handlers finish, new messages wait in the stream.
                await _control.WaitWhilePausedAsync(_fetching.Token).ConfigureAwait(false);

                // Ask for a fair share of the free capacity: every partition's fetcher may be asking at once.
                var free = await _credits.WaitForFreeAsync(_fetching.Token).ConfigureAwait(false);
                credits = Math.Clamp(free / _keys.Partitions, 1, Options.FetchCount);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            IReadOnlyList<StreamEntry> entries;
            try
            {
                // Checkpoint: XREADGROUP moves entries into this consumer's pending list as it returns them.
                // If this process dies from here until the ack, they stay pending and are reclaimed.
                entries = cursor == ">"
                    ? await _runtime.Redis.XReadGroupAsync(stream, Options.Group, Name, ">", credits, Options.BlockFor, cancellationToken: _fetching.Token).ConfigureAwait(false)
                    : await _runtime.Redis.XReadGroupAsync(stream, Options.Group, Name, cursor, credits, cancellationToken: _fetching.Token).ConfigureAwait(false);
                failures = 0;
                Interlocked.Exchange(ref _lastFetchAt, _runtime.Time.GetUtcNow().ToUnixTimeMilliseconds());
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (RedisServerException e) when (IsDeleted(e))
            {
                StopBecauseDeleted($"{e.ErrorCode} on {stream}");
                return;
            }
            catch (RedisException e)
            {
                // Redis unreachable or failing over: keep trying with a growing pause. The health check
                // sees LastFetchAt getting old; nothing is lost, the entries wait in the stream.
                failures++;
                ConsumerLog.FetchFailed(_logger, e, Name, stream, failures);
                await PauseAsync(failures).ConfigureAwait(false);
                continue;
            }

            _credits.Take(entries.Count);
            var ownBacklog = cursor != ">";
            if (ownBacklog)
            {
                cursor = entries.Count == 0 ? ">" : entries[^1].Id;
            }

            foreach (var entry in entries)
            {
                Hand(new Delivery(entry, partition, Redelivered: ownBacklog));
            }
        }
    }

    /// <summary>
    /// Passes a delivery to the handler workers (credits bound what is held). It fails only once
    /// stopping, and then the entry simply stays pending for a reclaim.
    /// </summary>
    private void Hand(Delivery delivery)
    {
        if (!_deliveries.Writer.TryWrite(delivery))
        {
            _credits.Return(1);
        }
    }

    private async Task PauseAsync(int failures)
    {
        var delay = TimeSpan.FromMilliseconds(Math.Min(2000, 50 * Math.Pow(2, Math.Min(failures, 6))));
        try
        {
            await Task.Delay(delay, _runtime.Time, _fetching.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }
}
