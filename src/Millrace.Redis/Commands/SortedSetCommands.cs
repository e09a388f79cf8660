namespace Millrace.Redis;

/// <summary>A sorted-set member and its score.</summary>
/// <param name="Member">The member.</param>
/// <param name="Score">Its score.</param>
public readonly record struct SortedSetEntry(string Member, double Score);

/// <summary>Sorted-set commands.</summary>
public static class SortedSetCommands
{
    /// <summary>ZADD of several members, optionally only new ones (NX).</summary>
    public static RedisCommand ZAdd(string key, IReadOnlyList<SortedSetEntry> entries, bool onlyIfAbsent = false)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var args = new List<RedisArg>(2 + (entries.Count * 2)) { key };
        if (onlyIfAbsent)
        {
            args.Add("NX");
        }

        foreach (var entry in entries)
        {
            args.Add(entry.Score);
            args.Add(entry.Member);
        }

        return new RedisCommand("ZADD", [.. args], 0);
    }

    /// <summary>Sends ZADD; returns how many members were added.</summary>
    public static async Task<long> ZAddAsync(this IRedisClient redis, string key, IReadOnlyList<SortedSetEntry> entries, bool onlyIfAbsent = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(ZAdd(key, entries, onlyIfAbsent), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>Sends ZRANGEBYSCORE ... WITHSCORES [LIMIT 0 count] between two scores (inclusive).</summary>
    public static async Task<IReadOnlyList<SortedSetEntry>> ZRangeByScoreAsync(this IRedisClient redis, string key, double min, double max, int count = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        RedisArg[] args = count > 0 ? [key, min, max, "WITHSCORES", "LIMIT", 0, count] : [key, min, max, "WITHSCORES"];
        var reply = await redis.ExecuteAsync(new RedisCommand("ZRANGEBYSCORE", args, 0), cancellationToken).ConfigureAwait(false);
        return ParseWithScores(reply);
    }

    /// <summary>Sends ZREM; returns how many were removed.</summary>
    public static async Task<long> ZRemAsync(this IRedisClient redis, string key, IReadOnlyList<string> members, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(members);
        return (await redis.ExecuteAsync(new RedisCommand("ZREM", [key, .. members.Select(m => (RedisArg)m)], 0), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>Sends ZSCORE; null when the member is absent.</summary>
    public static async Task<double?> ZScoreAsync(this IRedisClient redis, string key, string member, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var reply = await redis.ExecuteAsync(new RedisCommand("ZSCORE", [key, member], 0), cancellationToken).ConfigureAwait(false);
        return reply.IsNull ? null : reply.AsDouble();
    }

    /// <summary>Sends ZCARD.</summary>
    public static async Task<long> ZCardAsync(this IRedisClient redis, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("ZCARD", [key], 0), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>Reads a WITHSCORES reply: flat member, score pairs (RESP2) or [member, score] pairs (RESP3).</summary>
    public static IReadOnlyList<SortedSetEntry> ParseWithScores(RedisReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var items = reply.ItemArray;
        if (items.Length > 0 && items[0].IsAggregate)
        {
            return items.Select(i => new SortedSetEntry(i[0].AsString()!, i[1].AsDouble())).ToArray();
        }

        var result = new SortedSetEntry[items.Length / 2];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new SortedSetEntry(items[2 * i].AsString()!, items[(2 * i) + 1].AsDouble());
        }

        return result;
    }
}
