namespace Millrace.Redis;

/// <summary>Hash commands.</summary>
public static class HashCommands
{
    /// <summary>HSET with several fields.</summary>
    public static RedisCommand HSet(string key, IReadOnlyList<KeyValuePair<string, RedisArg>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var args = new RedisArg[1 + (fields.Count * 2)];
        args[0] = key;
        for (var i = 0; i < fields.Count; i++)
        {
            args[1 + (2 * i)] = fields[i].Key;
            args[2 + (2 * i)] = fields[i].Value;
        }

        return new RedisCommand("HSET", args, 0);
    }

    /// <summary>Sends HSET; returns how many fields were new.</summary>
    public static async Task<long> HSetAsync(this IRedisClient redis, string key, IReadOnlyList<KeyValuePair<string, RedisArg>> fields, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(HSet(key, fields), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>Sends HGET; null when the field or key is absent.</summary>
    public static async Task<string?> HGetAsync(this IRedisClient redis, string key, string field, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("HGET", [key, field], 0), cancellationToken).ConfigureAwait(false)).AsString();
    }

    /// <summary>Sends HGETALL; empty when the key is absent.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> HGetAllAsync(this IRedisClient redis, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var reply = await redis.ExecuteAsync(new RedisCommand("HGETALL", [key], 0), cancellationToken).ConfigureAwait(false);
        return reply.AsPairs().ToDictionary(p => p.Key, p => p.Value.AsString() ?? "", StringComparer.Ordinal);
    }

    /// <summary>Sends HDEL; returns how many fields were removed.</summary>
    public static async Task<long> HDelAsync(this IRedisClient redis, string key, IReadOnlyList<string> fields, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(fields);
        return (await redis.ExecuteAsync(new RedisCommand("HDEL", [key, .. fields.Select(f => (RedisArg)f)], 0), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>Sends HINCRBY; returns the new value.</summary>
    public static async Task<long> HIncrementAsync(this IRedisClient redis, string key, string field, long by = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("HINCRBY", [key, field, by], 0), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>Sends HLEN.</summary>
    public static async Task<long> HLenAsync(this IRedisClient redis, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("HLEN", [key], 0), cancellationToken).ConfigureAwait(false)).AsInt64();
    }
}
