using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Exactly-once effects for handlers that write to Redis: the writes of one message and a marker
/// saying "message X has been applied" are committed together by one script, so a redelivered
/// message applies its writes at most once. All keys must share one hash tag on Cluster (the marker
/// takes the tag of the first key).
/// </summary>
/// <example>
/// <code>
/// var applied = await IdempotentEffects.ApplyOnceAsync(redis, context.Message.Id,
/// [
///     new RedisCommand("INCRBY", ["{account:7}:balance", 100], 0),
///     new RedisCommand("LPUSH", ["{account:7}:history", context.Message.Id], 0),
/// ]);
/// </code>
/// </example>
public static class IdempotentEffects
{
    /// <summary>How long an applied marker is kept by default: longer than any redelivery could come.</summary>
    public static TimeSpan DefaultMarkerTtl { get; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Marker set with NX first: if it was already there, nothing runs. Then each command, with its
    /// key taken from KEYS (declared) and its other arguments from ARGV.
    /// KEYS: marker, command keys... ARGV: ttl ms, then per command: argument count, name, arguments
    /// (the key's place holds the literal "\0key" and is replaced by the next KEYS entry).
    /// </summary>
    private static readonly RedisScript ApplyOnce = new("""
        if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
        local a, k = 2, 2
        while a <= #ARGV do
          local count = tonumber(ARGV[a])
          local args = {}
          for i = 1, count do
            local value = ARGV[a + i]
            if value == '\0key' then value = KEYS[k]; k = k + 1 end
            args[i] = value
          end
          redis.call(unpack(args))
          a = a + count + 1
        end
        return 1
        """);

    /// <summary>
    /// Runs <paramref name="commands"/> once for <paramref name="messageId"/>: true when they ran now,
    /// false when an earlier delivery of the same message already applied them.
    /// </summary>
    public static async Task<bool> ApplyOnceAsync(IRedisClient redis, string messageId, IReadOnlyList<RedisCommand> commands,
        TimeSpan? markerTtl = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        if (commands.Count == 0 || commands.Any(c => c.KeyIndex < 0))
        {
            throw new ArgumentException("Give at least one command, each with its key (keyIndex), so the script can declare every key it touches.", nameof(commands));
        }

        var firstKey = commands[0].Key!.Value.ToString();
        var keys = new List<RedisArg> { MarkerFor(firstKey, messageId) };
        var args = new List<RedisArg> { (long)(markerTtl ?? DefaultMarkerTtl).TotalMilliseconds };
        foreach (var command in commands)
        {
            args.Add(command.Args.Length + 1);
            args.Add(command.Name);
            for (var i = 0; i < command.Args.Length; i++)
            {
                if (i == command.KeyIndex)
                {
                    keys.Add(command.Args[i]);
                    args.Add("\0key");
                }
                else
                {
                    args.Add(command.Args[i]);
                }
            }
        }

        var reply = await redis.ExecuteAsync(ApplyOnce.Command(keys, args), cancellationToken).ConfigureAwait(false);
        return reply.AsInt64() == 1;
    }

    /// <summary>The marker key: in the first key's hash tag (or the key itself as the tag), so the script stays in one slot.</summary>
    internal static string MarkerFor(string firstKey, string messageId)
    {
        var open = firstKey.IndexOf('{', StringComparison.Ordinal);
        var close = open >= 0 ? firstKey.IndexOf('}', open + 1) : -1;
        var tag = close > open + 1 ? firstKey[open..(close + 1)] : "{" + firstKey + "}";
        return $"millrace:applied:{tag}:{messageId}";
    }
}
