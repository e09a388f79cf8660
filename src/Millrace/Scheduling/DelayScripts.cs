using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Delayed messages wait in a partition's sorted set (member scored by due time) with their bodies
/// in a hash, outside the stream. Promotion moves due ones into the stream atomically, so any
/// number of schedulers can run it with no leader and no duplicate: each member is moved once.
/// </summary>
internal static class DelayScripts
{
    /// <summary>
    /// Adds a delayed message; with a dedup marker key, only if the marker is free.
    /// KEYS: delayed set, bodies hash [, dedup marker, marker index]. ARGV: due ms, member, body, events channel [, dedup ttl ms, message id].
    /// Returns {message id or member, 1 if duplicate}. Announces the due time when it is the earliest, so sleeping schedulers wake.
    /// </summary>
    public static readonly RedisScript Schedule = new(PublishScripts.MarkerIndex + "\n" + """
        if KEYS[3] then
          local first = redis.call('GET', KEYS[3])
          if first then return {first, 1} end
          redis.call('SET', KEYS[3], ARGV[6], 'PX', ARGV[5])
          index_marker(KEYS[4], KEYS[3], ARGV[5])
        end
        redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
        redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
        if redis.call('ZRANGE', KEYS[1], 0, 0)[1] == ARGV[2] then
          redis.call('PUBLISH', ARGV[4], 'due:' .. ARGV[1])
        end
        return {ARGV[6] or ARGV[2], 0}
        """);

    /// <summary>
    /// Moves up to ARGV[1] due messages (by the server's clock) into the stream of their priority level.
    /// KEYS: delayed set, bodies hash, level streams (lowest first). Returns {moved, next due ms or -1, server now ms}.
    /// </summary>
    public static readonly RedisScript Promote = new(FieldCodec.LuaDecoder + "\n" + FieldCodec.LuaLevelStream + "\n" + """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
        for _, member in ipairs(due) do
          local body = redis.call('HGET', KEYS[2], member)
          if body then
            local fields = unpack_fields(body)
            redis.call('XADD', level_stream(fields, 3), '*', unpack(fields))
          end
          redis.call('ZREM', KEYS[1], member)
          redis.call('HDEL', KEYS[2], member)
        end
        local upcoming = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        return {#due, tonumber(upcoming[2] or '-1'), now}
        """);
}
