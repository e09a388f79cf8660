using Millrace.Redis;

namespace Millrace;

/// <summary>The Lua scripts of the publish path. Every key they touch is in KEYS and shares one partition's hash tag.</summary>
internal static class PublishScripts
{
    /// <summary>
    /// Publish with a dedup key, atomically: if the marker exists, add nothing and return the first
    /// message's id; otherwise add the entry and set the marker (which holds the message id), and
    /// list the marker in the partition's marker index (pruning expired ones as it goes).
    /// KEYS: stream, marker, marker index. ARGV: ttl ms, message id, field, value, ...
    /// Returns {message id, entry id or '', 1 if duplicate}.
    /// </summary>
    public static readonly RedisScript PublishDeduplicated = new(MarkerIndex + "\n" + """
        local first = redis.call('GET', KEYS[2])
        if first then
          return {first, '', 1}
        end
        local entry = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
        redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[1])
        index_marker(KEYS[3], KEYS[2], ARGV[1])
        return {ARGV[2], entry, 0}
        """);

    /// <summary>Lua: records a marker key with its expiry in the index, and drops index entries already expired.</summary>
    public const string MarkerIndex = """
        local function index_marker(index, marker, ttl)
          local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
          redis.call('ZADD', index, now + tonumber(ttl), marker)
          redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
        end
        """;

    /// <summary>
    /// The length cap that never drops what a group still needs (Redis 7.0 has no XTRIM ... ACKED).
    /// For each group the first entry it still needs is its oldest pending entry, or, with nothing
    /// pending, the one after its last-delivered id; trimming stops below the lowest of those, and
    /// removes at most the excess over the cap. With no group, nothing has been read: nothing goes.
    /// KEYS: stream. ARGV: max length, '1' to trim regardless of groups. Returns entries removed.
    /// </summary>
    public static readonly RedisScript TrimAcknowledged = new("""
        local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[1])
        if excess <= 0 then return 0 end
        if ARGV[2] == '1' then return redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[1]) end
        local function parse(id)
          local ms, seq = string.match(id, '^(%d+)-(%d+)$')
          return tonumber(ms), tonumber(seq)
        end
        local function below(a, b)
          local ams, aseq = parse(a)
          local bms, bseq = parse(b)
          return ams < bms or (ams == bms and aseq < bseq)
        end
        local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
        if #groups == 0 then return 0 end
        local safe = nil
        for _, group in ipairs(groups) do
          local info = {}
          for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
          local needed
          if info['pending'] > 0 then
            needed = redis.call('XPENDING', KEYS[1], info['name'])[2]
          else
            local ms, seq = parse(info['last-delivered-id'])
            needed = string.format('%d-%d', ms, seq + 1)
          end
          if safe == nil or below(needed, safe) then safe = needed end
        end
        return redis.call('XTRIM', KEYS[1], 'MINID', '~', safe, 'LIMIT', excess)
        """);
}
