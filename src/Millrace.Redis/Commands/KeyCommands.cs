namespace Millrace.Redis;

/// <summary>Strings, keys, scripts, pub/sub and server commands.</summary>
public static class KeyCommands
{
    /// <summary>SET with optional NX (only if absent) and expiry in milliseconds (PX).</summary>
    public static RedisCommand Set(string key, RedisArg value, TimeSpan? expiry = null, bool onlyIfAbsent = false)
    {
        var args = new List<RedisArg>(5) { key, value };
        if (onlyIfAbsent)
        {
            args.Add("NX");
        }

        if (expiry is { } ttl)
        {
            args.Add("PX");
            args.Add((long)ttl.TotalMilliseconds);
        }

        return new RedisCommand("SET", [.. args], 0);
    }

    /// <summary>Sends SET; returns false when NX was asked and the key existed.</summary>
    public static async Task<bool> SetAsync(this IRedisClient redis, string key, RedisArg value, TimeSpan? expiry = null, bool onlyIfAbsent = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return !(await redis.ExecuteAsync(Set(key, value, expiry, onlyIfAbsent), cancellationToken).ConfigureAwait(false)).IsNull;
    }

    /// <summary>Sends GET; null when the key does not exist.</summary>
    public static async Task<byte[]?> GetAsync(this IRedisClient redis, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("GET", [key], 0), cancellationToken).ConfigureAwait(false)).AsBytes();
    }

    /// <summary>Sends GET; the value as text, or null.</summary>
    public static async Task<string?> GetStringAsync(this IRedisClient redis, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("GET", [key], 0), cancellationToken).ConfigureAwait(false)).AsString();
    }

    /// <summary>Sends DEL (on Cluster all keys must share a slot); returns how many existed.</summary>
    public static async Task<long> DelAsync(this IRedisClient redis, IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(keys);
        return (await redis.ExecuteAsync(new RedisCommand("DEL", [.. keys.Select(k => (RedisArg)k)], 0), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>Sends EXISTS for one key.</summary>
    public static async Task<bool> ExistsAsync(this IRedisClient redis, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("EXISTS", [key], 0), cancellationToken).ConfigureAwait(false)).AsInt64() > 0;
    }

    /// <summary>Sends PEXPIRE; false when the key does not exist.</summary>
    public static async Task<bool> ExpireAsync(this IRedisClient redis, string key, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("PEXPIRE", [key, (long)ttl.TotalMilliseconds], 0), cancellationToken).ConfigureAwait(false)).AsInt64() > 0;
    }

    /// <summary>Sends PTTL: remaining time to live, or null when the key has none or does not exist.</summary>
    public static async Task<TimeSpan?> TimeToLiveAsync(this IRedisClient redis, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var ms = (await redis.ExecuteAsync(new RedisCommand("PTTL", [key], 0), cancellationToken).ConfigureAwait(false)).AsInt64();
        return ms < 0 ? null : TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>Sends INCRBY; returns the new value.</summary>
    public static async Task<long> IncrementAsync(this IRedisClient redis, string key, long by = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("INCRBY", [key, by], 0), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>Runs a script by EVALSHA (resent as EVAL if Redis lost it). Every key it touches must be in <paramref name="keys"/>.</summary>
    public static Task<RedisReply> EvalAsync(this IRedisClient redis, RedisScript script, IReadOnlyList<RedisArg> keys, IReadOnlyList<RedisArg>? args = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(script);
        return redis.ExecuteAsync(script.Command(keys, args), cancellationToken);
    }

    /// <summary>Sends PUBLISH; returns how many subscribers received it (on Cluster, those of the node that took it).</summary>
    public static async Task<long> PublishAsync(this IRedisClient redis, string channel, RedisArg message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("PUBLISH", [channel, message]), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>Sends PING; returns the round trip.</summary>
    public static async Task<TimeSpan> PingAsync(this IRedisClient redis, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await redis.ExecuteAsync(new RedisCommand("PING", []), cancellationToken).ConfigureAwait(false);
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Server time (TIME) as a Unix time in milliseconds: the one clock all instances share.</summary>
    public static async Task<long> ServerTimeMillisecondsAsync(this IRedisClient redis, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var reply = await redis.ExecuteAsync(new RedisCommand("TIME", []), cancellationToken).ConfigureAwait(false);
        return (reply[0].AsInt64() * 1000) + (reply[1].AsInt64() / 1000);
    }
}
