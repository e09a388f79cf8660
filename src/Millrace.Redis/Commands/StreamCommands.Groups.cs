namespace Millrace.Redis;

public static partial class StreamCommands
{
    /// <summary>XGROUP CREATE, starting at <paramref name="startId"/> (<c>$</c> = only new entries, <c>0</c> = everything).</summary>
    public static RedisCommand XGroupCreate(string key, string group, string startId = "$", bool makeStream = true) =>
        makeStream ? new("XGROUP", ["CREATE", key, group, startId, "MKSTREAM"], 1) : new("XGROUP", ["CREATE", key, group, startId], 1);

    /// <summary>Creates a group; returns false when it already exists (BUSYGROUP), so it is safe to call at every start.</summary>
    public static async Task<bool> XGroupCreateAsync(this IRedisClient redis, string key, string group, string startId = "$", bool makeStream = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        try
        {
            await redis.ExecuteAsync(XGroupCreate(key, group, startId, makeStream), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RedisServerException e) when (e.ErrorCode == "BUSYGROUP")
        {
            return false;
        }
    }

    /// <summary>Sends XGROUP DESTROY; returns true when the group existed.</summary>
    public static async Task<bool> XGroupDestroyAsync(this IRedisClient redis, string key, string group, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("XGROUP", ["DESTROY", key, group], 1), cancellationToken).ConfigureAwait(false)).AsInt64() > 0;
    }

    /// <summary>Sends XGROUP DELCONSUMER; returns how many pending entries the consumer had (they are discarded: reclaim them first).</summary>
    public static async Task<long> XGroupDelConsumerAsync(this IRedisClient redis, string key, string group, string consumer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(new RedisCommand("XGROUP", ["DELCONSUMER", key, group, consumer], 1), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>Sends XGROUP SETID: moves the group's last-delivered id.</summary>
    public static async Task XGroupSetIdAsync(this IRedisClient redis, string key, string group, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        await redis.ExecuteAsync(new RedisCommand("XGROUP", ["SETID", key, group, id], 1), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends XINFO STREAM.</summary>
    public static async Task<StreamInfo> XInfoStreamAsync(this IRedisClient redis, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var fields = (await redis.ExecuteAsync(new RedisCommand("XINFO", ["STREAM", key], 1), cancellationToken).ConfigureAwait(false)).AsDictionary();
        return new StreamInfo(
            fields["length"].AsInt64(),
            fields["last-generated-id"].AsString()!,
            fields.TryGetValue("entries-added", out var added) ? added.AsNullableInt64() : null,
            fields["groups"].AsInt64(),
            OptionalEntry(fields, "first-entry"),
            OptionalEntry(fields, "last-entry"),
            fields);
    }

    /// <summary>Sends XINFO GROUPS.</summary>
    public static async Task<IReadOnlyList<GroupInfo>> XInfoGroupsAsync(this IRedisClient redis, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var reply = await redis.ExecuteAsync(new RedisCommand("XINFO", ["GROUPS", key], 1), cancellationToken).ConfigureAwait(false);
        return reply.Items.Select(row =>
        {
            var f = row.AsDictionary();
            return new GroupInfo(
                f["name"].AsString()!,
                f["consumers"].AsInt64(),
                f["pending"].AsInt64(),
                f["last-delivered-id"].AsString()!,
                f.TryGetValue("entries-read", out var read) ? read.AsNullableInt64() : null,
                f.TryGetValue("lag", out var lag) ? lag.AsNullableInt64() : null);
        }).ToArray();
    }

    /// <summary>Sends XINFO CONSUMERS.</summary>
    public static async Task<IReadOnlyList<ConsumerInfo>> XInfoConsumersAsync(this IRedisClient redis, string key, string group, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var reply = await redis.ExecuteAsync(new RedisCommand("XINFO", ["CONSUMERS", key, group], 1), cancellationToken).ConfigureAwait(false);
        return reply.Items.Select(row =>
        {
            var f = row.AsDictionary();
            return new ConsumerInfo(
                f["name"].AsString()!,
                f["pending"].AsInt64(),
                TimeSpan.FromMilliseconds(f["idle"].AsInt64()),
                f.TryGetValue("inactive", out var inactive) && !inactive.IsNull ? TimeSpan.FromMilliseconds(inactive.AsInt64()) : null);
        }).ToArray();
    }

    private static StreamEntry? OptionalEntry(Dictionary<string, RedisReply> fields, string name) =>
        fields.TryGetValue(name, out var entry) && !entry.IsNull ? ParseEntry(entry) : null;
}
