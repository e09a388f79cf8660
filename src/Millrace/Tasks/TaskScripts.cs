using Millrace.Redis;

namespace Millrace;

/// <summary>The one script that records a task's change: record, indexes, errors and lifecycle events together.</summary>
internal static class TaskScripts
{
    /// <summary>
    /// KEYS: record, errors, all, by type, by queue, events, by state ×7, by type and state ×7 (in <see cref="TaskState"/> order).
    /// ARGV: mode ('create' keeps an existing record's state: a consumer may have got there first; 'reopen'
    /// applies only to a record that is dead or stopped; 'set' always applies), state,
    /// member, now ms, ttl ms, prune bound, attempt ('' keeps), error, result, max errors,
    /// events max length, events (comma-separated), id, queue, type, tenant, created ms, payload,
    /// payload truncated (0/1), headers JSON, has body (0/1).
    /// Returns 1 when the state was written, 0 when 'create' found the record already there.
    /// </summary>
    public static readonly RedisScript Record = new("""
        local names = {'pending', 'scheduled', 'processing', 'succeeded', 'failed', 'dead', 'stopped'}
        local slot = {}
        for i, n in ipairs(names) do slot[n] = i end
        local now, ttl = ARGV[4], tonumber(ARGV[5])
        local written = 0
        local exists = redis.call('EXISTS', KEYS[1]) == 1
        local events = ARGV[12]
        if ARGV[1] == 'reopen' then
          local current = exists and redis.call('HGET', KEYS[1], 'state')
          if current ~= 'dead' and current ~= 'stopped' then return 0 end
        end
        if ARGV[1] == 'create' and exists then
          -- A consumer got there first and already announced it as published.
          if redis.call('HGET', KEYS[1], 'published') == '1' then events = string.gsub(events, 'published,?', '') end
          if ARGV[21] == '1' then
            redis.call('HSETNX', KEYS[1], 'payload', ARGV[18])
            redis.call('HSETNX', KEYS[1], 'payload_truncated', ARGV[19])
            redis.call('HSETNX', KEYS[1], 'headers', ARGV[20])
          end
          redis.call('HSET', KEYS[1], 'created_at', ARGV[17])
        else
          local old = redis.call('HGET', KEYS[1], 'state')
          local oldm = redis.call('HGET', KEYS[1], 'm')
          if oldm then
            redis.call('ZREM', KEYS[3], oldm)
            redis.call('ZREM', KEYS[4], oldm)
            redis.call('ZREM', KEYS[5], oldm)
            if old and slot[old] then
              redis.call('ZREM', KEYS[6 + slot[old]], oldm)
              redis.call('ZREM', KEYS[13 + slot[old]], oldm)
            end
          end
          if not exists then
            -- The first writer announces it, so "published" always precedes "started" in the stream.
            if ARGV[1] == 'set' then events = 'published,' .. events end
            redis.call('HSET', KEYS[1], 'published', '1')
          end
          redis.call('HSET', KEYS[1], 'id', ARGV[13], 'queue', ARGV[14], 'type', ARGV[15], 'state', ARGV[2], 'updated_at', now, 'm', ARGV[3])
          redis.call('HSETNX', KEYS[1], 'created_at', ARGV[17])
          redis.call('HSETNX', KEYS[1], 'attempts', '0')
          if ARGV[16] ~= '' then redis.call('HSET', KEYS[1], 'tenant', ARGV[16]) end
          if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'attempts', ARGV[7]) end
          if ARGV[9] ~= '' then redis.call('HSET', KEYS[1], 'result', ARGV[9]) end
          if ARGV[21] == '1' then
            redis.call('HSET', KEYS[1], 'payload', ARGV[18], 'payload_truncated', ARGV[19], 'headers', ARGV[20])
          end
          if ARGV[8] ~= '' then
            redis.call('RPUSH', KEYS[2], (ARGV[7] ~= '' and ARGV[7] or '0') .. '|' .. now .. '|' .. ARGV[8])
            redis.call('LTRIM', KEYS[2], -tonumber(ARGV[10]), -1)
            redis.call('PEXPIRE', KEYS[2], ttl)
          end
          for _, k in ipairs({KEYS[3], KEYS[4], KEYS[5], KEYS[6 + slot[ARGV[2]]], KEYS[13 + slot[ARGV[2]]]}) do
            redis.call('ZADD', k, 0, ARGV[3])
            redis.call('ZREMRANGEBYLEX', k, '-', ARGV[6])
          end
          written = 1
        end
        redis.call('PEXPIRE', KEYS[1], ttl)
        redis.call('PEXPIRE', KEYS[2], ttl)
        if tonumber(ARGV[11]) > 0 and events ~= '' then
          for event in string.gmatch(events, '[^,]+') do
            redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[11], '*', 'event', event, 'queue', ARGV[14], 'id', ARGV[13],
              'type', ARGV[15], 'attempt', ARGV[7], 'error', ARGV[8], 'at', now)
          end
        end
        return written
        """);
}
