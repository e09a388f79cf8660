using Millrace.Redis;

namespace Millrace;

public sealed partial class QueueConsumer
{
    /// <summary>
    /// Reads one partition: first this consumer's own pending entries (left by a previous run under
    /// the same name), then new entries, choosing between priority levels by the queue's mode and
    /// waiting on the server for up to <see cref="ConsumerOptions.BlockFor"/> when all are empty.
    /// </summary>
    private async Task FetchLoopAsync(int partition)
    {
        var streams = _keys.LevelStreams(partition);
        var backlog = Enumerable.Repeat<string?>("0", streams.Length).ToArray();   // per level: "0", then the last id seen; null once done
        var failures = 0;
        long reads = 0;
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

            List<Delivery> got;
            try
            {
                // Checkpoint: XREADGROUP moves entries into this consumer's pending list as it returns them.
                // If this process dies from here until the ack, they stay pending and are reclaimed.
                got = Array.FindIndex(backlog, c => c is not null) is var level and >= 0
                    ? await ReadOwnBacklogAsync(partition, level, backlog, credits).ConfigureAwait(false)
                    : await ReadNewAsync(partition, streams, credits, reads++).ConfigureAwait(false);
                failures = 0;
                Interlocked.Exchange(ref _lastFetchAt, _runtime.Time.GetUtcNow().ToUnixTimeMilliseconds());
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (RedisServerException e) when (IsDeleted(e))
            {
                StopBecauseDeleted($"{e.ErrorCode} on {streams[0]}");
                return;
            }
            catch (RedisException e)
            {
                // Redis unreachable or failing over: keep trying with a growing pause. The health check
                // sees LastFetchAt getting old; nothing is lost, the entries wait in the stream.
                failures++;
                ConsumerLog.FetchFailed(_logger, e, Name, streams[0], failures);
                await PauseAsync(failures).ConfigureAwait(false);
                continue;
            }

            _credits.Take(got.Count);
            foreach (var delivery in got)
            {
                Hand(delivery);
            }
        }
    }

    private async Task<List<Delivery>> ReadOwnBacklogAsync(int partition, int level, string?[] backlog, int credits)
    {
        var entries = await _runtime.Redis.XReadGroupAsync(_keys.Stream(partition, level), Options.Group, Name, backlog[level]!, credits, cancellationToken: _fetching.Token).ConfigureAwait(false);
        backlog[level] = entries.Count == 0 ? null : entries[^1].Id;
        return entries.Select(e => new Delivery(e, partition, Redelivered: true, level)).ToList();
    }

    private async Task<List<Delivery>> ReadNewAsync(int partition, string[] streams, int credits, long read)
    {
        if (streams.Length == 1)
        {
            var entries = await _runtime.Redis.XReadGroupAsync(streams[0], Options.Group, Name, ">", credits, Options.BlockFor, cancellationToken: _fetching.Token).ConfigureAwait(false);
            return entries.Select(e => new Delivery(e, partition, Redelivered: false)).ToList();
        }

        // Priority levels: the first level in this read's order that has messages gives them.
        foreach (var level in LevelOrder(streams.Length, read))
        {
            var entries = await _runtime.Redis.XReadGroupAsync(streams[level], Options.Group, Name, ">", credits, cancellationToken: _fetching.Token).ConfigureAwait(false);
            if (entries.Count > 0)
            {
                return entries.Select(e => new Delivery(e, partition, Redelivered: false, level)).ToList();
            }
        }

        // All empty: wait on every level at once (they share the partition's slot, so one read covers them).
        var results = await _runtime.Redis.XReadGroupAsync(Options.Group, Name, streams.Select(s => (s, ">")).ToArray(), credits, Options.BlockFor, cancellationToken: _fetching.Token).ConfigureAwait(false);
        return results.SelectMany(r => r.Entries.Select(e => new Delivery(e, partition, Redelivered: false, Array.IndexOf(streams, r.Key)))).ToList();
    }

    /// <summary>The order in which one read tries the levels (highest first when strict; by weight when weighted).</summary>
    private IEnumerable<int> LevelOrder(int levels, long read)
    {
        var queue = _runtime.Options.Queue(Options.Queue);
        if (queue.PriorityMode == PriorityMode.Strict)
        {
            var starve = queue.StarvationGuard > 0 && read % queue.StarvationGuard == queue.StarvationGuard - 1;
            return starve ? Enumerable.Range(0, levels) : Enumerable.Range(0, levels).Reverse();
        }

        var weights = queue.PriorityWeights.Count == levels ? queue.PriorityWeights.ToArray() : Enumerable.Range(0, levels).Select(l => 1 << l).ToArray();
        var remaining = Enumerable.Range(0, levels).ToList();
        var order = new List<int>(levels);
        while (remaining.Count > 0)
        {
            var pick = Random.Shared.Next(remaining.Sum(l => weights[l]));
            var chosen = remaining.First(l => (pick -= weights[l]) < 0);
            order.Add(chosen);
            remaining.Remove(chosen);
        }

        return order;
    }

    /// <summary>
    /// Passes a delivery to the handler workers (credits bound what is held). It fails only once
    /// stopping, and then the entry simply stays pending for a reclaim.
    /// </summary>
    private void Hand(Delivery delivery)
    {
        // Checkpoint: read and pending for this consumer. From here its lease is renewed while it waits
        // for a handler, so a deep prefetch is never reclaimed by another consumer while this one is alive.
        var running = _running[Lane(delivery)];
        running[delivery.Entry.Id] = 0;
        if (!_deliveries.Writer.TryWrite(delivery))
        {
            running.TryRemove(delivery.Entry.Id, out _);
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
