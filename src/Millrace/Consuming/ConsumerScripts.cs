using Millrace.Redis;

namespace Millrace;

/// <summary>The Lua scripts of the consume path. Every key they touch is in KEYS.</summary>
internal static class ConsumerScripts
{
    /// <summary>
    /// Lease renewal: resets the idle time of the given entries, but only those this consumer still
    /// owns. A plain XCLAIM would take back an entry another consumer had rightly reclaimed.
    /// KEYS: stream. ARGV: group, consumer, ids... Returns the ids renewed.
    /// </summary>
    public static readonly RedisScript RenewLeases = new("""
        local renewed = {}
        for i = 3, #ARGV do
          local row = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
          if row and row[2] == ARGV[2] then
            redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
            renewed[#renewed + 1] = ARGV[i]
          end
        end
        return renewed
        """);
}
