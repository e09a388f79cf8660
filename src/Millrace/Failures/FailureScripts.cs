using Millrace.Redis;

namespace Millrace;

/// <summary>
/// The failure path's scripts. Each first checks that this consumer still owns the entry (a
/// consumer that stalled past its lease must not retry or bury what another consumer now runs),
/// then acknowledges the failed delivery and records what comes next, in one atomic step: a crash
/// before it leaves the entry pending (it runs again), a crash after it loses nothing.
/// </summary>
internal static class FailureScripts
{
    private const string OwnerCheck = """
        local row = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)[1]
        if not row or row[2] ~= ARGV[3] then return 0 end
        """;

    /// <summary>
    /// Acknowledges the failed delivery and schedules the retry.
    /// KEYS: stream, delayed set, bodies hash. ARGV: group, entry id, consumer, due ms, member, body, events channel.
    /// Returns 1, or 0 when the entry is no longer this consumer's.
    /// </summary>
    public static readonly RedisScript Retry = new(OwnerCheck + "\n" + """
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
        redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
        if redis.call('ZRANGE', KEYS[2], 0, 0)[1] == ARGV[5] then
          redis.call('PUBLISH', ARGV[7], 'due:' .. ARGV[4])
        end
        return 1
        """);

    /// <summary>
    /// Moves the entry to the dead-letter stream (its fields plus the dlq_ record) and acknowledges it.
    /// KEYS: stream, dead stream. ARGV: group, entry id, consumer, then field, value, ...
    /// Returns the dead-letter entry id, or 0 when the entry is no longer this consumer's.
    /// </summary>
    public static readonly RedisScript Bury = new(OwnerCheck + "\n" + """
        local dead = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        return dead
        """);

    /// <summary>
    /// Parks a stopped message: its fields go to the parked hash under its message id and the delivery is acknowledged.
    /// KEYS: stream, parked hash. ARGV: group, entry id, consumer, message id, body. Returns 1, or 0 when not this consumer's.
    /// </summary>
    public static readonly RedisScript Park = new(OwnerCheck + "\n" + """
        redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
        redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
        return 1
        """);
}
