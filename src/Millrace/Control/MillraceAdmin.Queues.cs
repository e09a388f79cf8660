using Millrace.Redis;

namespace Millrace;

public sealed partial class MillraceAdmin
{
    /// <summary>The names of the queues declared under this prefix (namespace), sorted.</summary>
    public async Task<IReadOnlyList<string>> QueueNamesAsync(CancellationToken cancellationToken = default)
    {
        var reply = await Redis.ExecuteAsync(new RedisCommand("SMEMBERS", [QueueKeys.Registry(_runtime.Prefix)], 0), cancellationToken).ConfigureAwait(false);
        return [.. reply.Items.Select(r => r.AsString()!).Order(StringComparer.Ordinal)];
    }

    /// <summary>Whether a queue has been declared under this prefix (namespace).</summary>
    public async Task<bool> QueueExistsAsync(string queue, CancellationToken cancellationToken = default)
    {
        QueueName.Validate(queue);
        var reply = await Redis.ExecuteAsync(new RedisCommand("SISMEMBER", [QueueKeys.Registry(_runtime.Prefix), queue], 0), cancellationToken).ConfigureAwait(false);
        return reply.AsInt64() == 1;
    }

    /// <summary>
    /// What a queue holds now: lengths, groups with their consumers, pending and lag, the oldest
    /// pending age, delayed, parked and dead-letter counts. Null when the queue is not declared.
    /// </summary>
    public async Task<QueueInfo?> QueueInfoAsync(string queue, CancellationToken cancellationToken = default)
    {
        if (!await QueueExistsAsync(queue, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var keys = await RecordedKeysAsync(queue, cancellationToken).ConfigureAwait(false);
        var streams = Enumerable.Range(0, keys.Partitions).SelectMany(keys.LevelStreams).ToArray();

        // Round trip 1: lengths, groups of every stream, counts, meta.
        var first = new List<RedisCommand>();
        foreach (var stream in streams)
        {
            first.Add(new RedisCommand("XLEN", [stream], 0));
            first.Add(new RedisCommand("XINFO", ["GROUPS", stream], 1));
        }

        for (var p = 0; p < keys.Partitions; p++)
        {
            first.Add(new RedisCommand("ZCARD", [keys.Delayed(p)], 0));
            first.Add(new RedisCommand("XLEN", [keys.Dead(p)], 0));
            first.Add(new RedisCommand("HLEN", [keys.Parked(p)], 0));
        }

        first.Add(new RedisCommand("HGET", [keys.Meta, "created_at"], 0));
        var replies = await Redis.ExecuteBatchAsync(first, cancellationToken).ConfigureAwait(false);

        long length = 0;
        var groupsByStream = new List<(string Stream, string Group, long Pending, long? Lag)>();
        for (var s = 0; s < streams.Length; s++)
        {
            length += replies[2 * s].AsInt64();
            var groups = replies[(2 * s) + 1];
            if (groups.IsError)
            {
                continue;   // ERR no such key: the stream has not been written yet
            }

            foreach (var group in groups.Items)
            {
                var fields = group.AsDictionary();
                groupsByStream.Add((streams[s], fields["name"].AsString()!, fields["pending"].AsInt64(),
                    fields.TryGetValue("lag", out var lag) ? lag.AsNullableInt64() : null));
            }
        }

        var at = 2 * streams.Length;
        long delayed = 0, dead = 0, parked = 0;
        for (var p = 0; p < keys.Partitions; p++)
        {
            delayed += replies[at++].AsInt64();
            dead += replies[at++].AsInt64();
            parked += replies[at++].AsInt64();
        }

        var createdMs = replies[at].AsNullableInt64();

        // Round trip 2: consumers and the oldest pending entry of each group of each stream.
        var second = new List<RedisCommand>();
        foreach (var (stream, group, _, _) in groupsByStream)
        {
            second.Add(new RedisCommand("XINFO", ["CONSUMERS", stream, group], 1));
            second.Add(new RedisCommand("XPENDING", [stream, group], 0));
        }

        var details = second.Count == 0 ? [] : await Redis.ExecuteBatchAsync(second, cancellationToken).ConfigureAwait(false);
        var now = _runtime.Time.GetUtcNow().ToUnixTimeMilliseconds();
        long? oldestPendingMs = null;
        var consumers = new Dictionary<(string Group, string Consumer), (long Pending, long IdleMs)>();
        for (var i = 0; i < groupsByStream.Count; i++)
        {
            var group = groupsByStream[i].Group;
            foreach (var consumer in details[2 * i].ThrowIfError("XINFO CONSUMERS").Items)
            {
                var fields = consumer.AsDictionary();
                var key = (group, fields["name"].AsString()!);
                var (pending, idle) = (fields["pending"].AsInt64(), fields["idle"].AsInt64());
                consumers[key] = consumers.TryGetValue(key, out var seen) ? (seen.Pending + pending, Math.Min(seen.IdleMs, idle)) : (pending, idle);
            }

            var summary = details[(2 * i) + 1].ThrowIfError("XPENDING");
            if (summary.Count >= 2 && !summary[1].IsNull && StreamIds.TryGetMilliseconds(summary[1].AsString(), out var ms))
            {
                oldestPendingMs = oldestPendingMs is null ? ms : Math.Min(oldestPendingMs.Value, ms);
            }
        }

        var groupInfos = groupsByStream
            .GroupBy(g => g.Group, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new GroupInfo(
                g.Key,
                g.Sum(x => x.Pending),
                g.Any(x => x.Lag is null) ? null : g.Sum(x => x.Lag!.Value),
                [.. consumers.Where(c => c.Key.Group == g.Key)
                    .OrderBy(c => c.Key.Consumer, StringComparer.Ordinal)
                    .Select(c => new ConsumerInfo(c.Key.Consumer, c.Value.Pending, TimeSpan.FromMilliseconds(c.Value.IdleMs)))]))
            .ToArray();

        var (paused, pausedTypes) = await ControlStateAsync(queue, cancellationToken).ConfigureAwait(false);
        return new QueueInfo(
            queue,
            keys.Partitions,
            length,
            delayed,
            dead,
            parked,
            paused,
            pausedTypes,
            groupInfos,
            oldestPendingMs is null ? null : TimeSpan.FromMilliseconds(Math.Max(0, now - oldestPendingMs.Value)),
            createdMs is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(createdMs.Value));
    }

    /// <summary>
    /// The key layout of a queue as recorded in Redis (partition count from its description), so a
    /// process that was not configured for the queue still sees all of it.
    /// </summary>
    private async Task<QueueKeys> RecordedKeysAsync(string queue, CancellationToken cancellationToken)
    {
        var configured = Keys(queue);
        var recorded = await Redis.HGetAsync(configured.Meta, "partitions", cancellationToken).ConfigureAwait(false);
        return int.TryParse(recorded, System.Globalization.CultureInfo.InvariantCulture, out var partitions) && partitions != configured.Partitions
            ? new QueueKeys(_runtime.Prefix, queue, partitions, configured.Levels)
            : configured;
    }
}
