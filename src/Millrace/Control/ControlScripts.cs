using Millrace.Redis;

namespace Millrace;

/// <summary>The scripts of the operator's actions. All keys of one partition, declared.</summary>
internal static class ControlScripts
{
    /// <summary>
    /// Puts a parked (stopped) message back at the end of the stream of its priority level.
    /// KEYS: parked hash, level streams (lowest first). ARGV: message id. Returns the new entry id, or nil when it was not parked here.
    /// </summary>
    public static readonly RedisScript Unpark = new(FieldCodec.LuaDecoder + "\n" + FieldCodec.LuaLevelStream + "\n" + """
        local body = redis.call('HGET', KEYS[1], ARGV[1])
        if not body then return nil end
        local fields = unpack_fields(body)
        local id = redis.call('XADD', level_stream(fields, 2), '*', unpack(fields))
        redis.call('HDEL', KEYS[1], ARGV[1])
        return id
        """);

    /// <summary>
    /// Moves one dead-letter entry back to the stream as a fresh first attempt (dlq_ fields and the
    /// attempt count are dropped), then deletes it from the dead-letter stream.
    /// KEYS: dead stream, level streams (lowest first). ARGV: dead-letter entry id. Returns the new entry id, or nil when absent.
    /// </summary>
    public static readonly RedisScript Requeue = new(FieldCodec.LuaLevelStream + "\n" + """
        local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
        if not entry then return nil end
        local fields = {}
        for i = 1, #entry[2], 2 do
          local name = entry[2][i]
          if string.sub(name, 1, 4) ~= 'dlq_' and name ~= 'attempt' and name ~= 'first_failed_at' then
            fields[#fields + 1] = name
            fields[#fields + 1] = entry[2][i + 1]
          end
        end
        local id = redis.call('XADD', level_stream(fields, 2), '*', unpack(fields))
        redis.call('XDEL', KEYS[1], ARGV[1])
        return id
        """);
}
