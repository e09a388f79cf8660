using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Flow control, atomic in Redis and timed by the server's clock (workers' clocks may disagree).
/// </summary>
internal static class FlowScripts
{
    /// <summary>
    /// Takes a permit of a type's concurrency limit, if one is free. Expired leases (workers that died
    /// or stopped renewing) are dropped first, which is how a dead worker's permits come back.
    /// KEYS: semaphore set, limits hash. ARGV: limit field, lease ms, lease id.
    /// Returns 1 when taken, 0 when all permits are held, -1 when the type has no limit.
    /// </summary>
    public static readonly RedisScript Acquire = new("""
        local limit = redis.call('HGET', KEYS[2], ARGV[1])
        if not limit then return -1 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if redis.call('ZCARD', KEYS[1]) < tonumber(limit) then
          redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
          redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
          return 1
        end
        return 0
        """);

    /// <summary>
    /// Extends held permits. KEYS: semaphore set. ARGV: lease ms, lease ids...
    /// Returns how many were still held (a permit that expired is gone; its handler finishes anyway).
    /// </summary>
    public static readonly RedisScript Renew = new("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local held = 0
        for i = 2, #ARGV do
          held = held + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[i])
        end
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
        return held
        """);

    /// <summary>
    /// Takes one token from the type's bucket and the tenant's bucket together, or from neither.
    /// KEYS: limits hash, type bucket, tenant bucket. ARGV: type rate field, tenant rate field ('' for none).
    /// Returns 0 when taken (or no bucket applies), otherwise the milliseconds until a token is due.
    /// </summary>
    public static readonly RedisScript TakeToken = new("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
        local buckets = {}
        local wait = 0
        for i = 1, 2 do
          local spec = ARGV[i] ~= '' and redis.call('HGET', KEYS[1], ARGV[i])
          if spec then
            local colon = string.find(spec, ':', 1, true)
            local rate = tonumber(string.sub(spec, 1, colon - 1))
            local burst = tonumber(string.sub(spec, colon + 1))
            local state = redis.call('HMGET', KEYS[i + 1], 'tokens', 'at')
            local tokens = tonumber(state[1]) or burst
            local at = tonumber(state[2]) or now
            tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
            if tokens < 1 then
              wait = math.max(wait, math.ceil((1 - tokens) * 1000 / rate))
            end
            buckets[#buckets + 1] = {KEYS[i + 1], tokens, rate, burst}
          end
        end
        if wait > 0 then return wait end
        for _, b in ipairs(buckets) do
          redis.call('HSET', b[1], 'tokens', tostring(b[2] - 1), 'at', tostring(now))
          redis.call('PEXPIRE', b[1], math.ceil(b[4] / b[3] * 1000) + 60000)
        end
        return 0
        """);
}
