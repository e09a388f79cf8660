using Millrace.Redis;

namespace Millrace;

/// <summary>
/// The retention script. Redis 7.0 has no <c>XTRIM ... ACKED</c> (8.2+), so the bound below which
/// every group is done is computed inside one script, atomically with the delete: a group created,
/// a read or an ack can't slip in between reading the groups and deleting.
/// </summary>
internal static class RetentionScripts
{
    /// <summary>
    /// Deletes up to a batch of the oldest entries that may go. Per active group, the first entry it
    /// still needs is its oldest pending entry (<c>XPENDING key group - + 1</c>), or, with nothing
    /// pending, the one after its last-delivered id: everything below was acknowledged (or never
    /// meant for it). The cutoff is the lowest of those and of <c>now - max age</c> (server clock,
    /// the clock that made the ids); the newest <c>min count</c> entries stay because at most
    /// <c>length - min count</c> of the oldest are deleted (the same as cutting at the min-count-th
    /// newest id, without reading those entries). Deleting starts with <c>XTRIM MINID ~ cutoff LIMIT n</c>,
    /// which frees whole stream nodes lying entirely below the cutoff without reading them; the
    /// remainder (usually part of one node) is found with <c>XRANGE - (cutoff COUNT</c> and removed
    /// by an exact <c>XTRIM MINID</c> just past its last id. Measured here (1,000 entries of 100 bytes
    /// per call, through redis-cli): about 1.8 ms a call with its round trip, against about 5 ms when
    /// every entry was read first. With no group at all nothing goes: nothing has been read.
    /// A group is inactive, and ignored, when the timeout is set and either all its consumers have
    /// been idle longer than it, or it has no consumer, its last-delivered id is older than it and
    /// it has been seen like that for longer than it. The second key remembers since when (Redis
    /// keeps no creation time for a group, and a group just created at an old id, before its first
    /// consumer reads, must not look abandoned); it shares the stream's hash tag and expires.
    /// KEYS: stream, idle-groups hash. ARGV: max age ms, min count, batch, inactive-group timeout ms (-1: never).
    /// Returns {deleted, length after, {ignored group names}}.
    /// </summary>
    public static readonly RedisScript Clean = new("""
        if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, {}} end
        local length = redis.call('XLEN', KEYS[1])
        local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
        local max_age, min_count = tonumber(ARGV[1]), tonumber(ARGV[2])
        local batch, timeout = tonumber(ARGV[3]), tonumber(ARGV[4])
        if timeout < 0 then redis.call('DEL', KEYS[2]) end
        if #groups == 0 then return {0, length, {}} end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        """ + "\n" + LuaIds + "\n" + """
        local cutoff = {math.max(now - max_age, 0), 0}
        local ignored = {}
        local watched = {}
        for _, group in ipairs(groups) do
          local info = {}
          for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
          local name = info['name']
          local delivered = parse(info['last-delivered-id'])
          local inactive = false
          if timeout >= 0 then
            if info['consumers'] > 0 then
              inactive = true
              for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], name)) do
                for i = 1, #consumer, 2 do
                  if consumer[i] == 'idle' and consumer[i + 1] <= timeout then inactive = false end
                end
              end
            elseif now - delivered[1] > timeout then
              local since = tonumber(redis.call('HGET', KEYS[2], name))
              if not since then
                since = now
                redis.call('HSET', KEYS[2], name, now)
              end
              watched[name] = true
              inactive = now - since > timeout
            end
          end
          if inactive then
            ignored[#ignored + 1] = name
          else
            local needed
            if info['pending'] > 0 then
              needed = parse(redis.call('XPENDING', KEYS[1], name, '-', '+', 1)[1][1])
            else
              needed = after(delivered)
            end
            if below(needed, cutoff) then cutoff = needed end
          end
        end
        if timeout >= 0 then
          for _, name in ipairs(redis.call('HKEYS', KEYS[2])) do
            if not watched[name] then redis.call('HDEL', KEYS[2], name) end
          end
          if next(watched) then redis.call('PEXPIRE', KEYS[2], 2 * timeout + 3600000) end
        end
        local n = math.min(batch, length - min_count)
        if n <= 0 or (cutoff[1] == 0 and cutoff[2] == 0) then return {0, length, ignored} end
        -- Whole stream nodes below the cutoff first (cheap: no entry is read), then the rest exactly.
        local deleted = redis.call('XTRIM', KEYS[1], 'MINID', '~', format(cutoff), 'LIMIT', n)
        if deleted < n then
          local doomed = redis.call('XRANGE', KEYS[1], '-', '(' .. format(cutoff), 'COUNT', n - deleted)
          if #doomed > 0 then
            deleted = deleted + redis.call('XTRIM', KEYS[1], 'MINID', format(after(parse(doomed[#doomed][1]))))
          end
        end
        return {deleted, length - deleted, ignored}
        """);

    /// <summary>
    /// The hash where the script remembers since when it has seen each consumer-less group idle;
    /// next to the stream, under its hash tag (so one script may touch both on Cluster).
    /// </summary>
    public static string IdleGroups(string stream) => stream + ":retention:idle-groups";

    /// <summary>Lua: entry ids as {ms, seq} pairs (two numbers; ms fits a double exactly), compared and formatted.</summary>
    private const string LuaIds = """
        local function parse(id)
          local ms, seq = string.match(id, '^(%d+)-(%d+)$')
          return {tonumber(ms), tonumber(seq)}
        end
        local function below(a, b)
          return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2])
        end
        local function after(id)
          if id[2] >= 9007199254740991 then return {id[1] + 1, 0} end
          return {id[1], id[2] + 1}
        end
        local function format(id)
          return string.format('%d-%d', id[1], id[2])
        end
        """;
}
