namespace Millrace.Redis;

/// <summary>
/// Stream commands. Each has a builder (for batches) and an extension method that sends it and
/// reads the reply. Replies are read the same way under RESP2 and RESP3.
/// </summary>
public static partial class StreamCommands
{
    /// <summary>XADD: appends an entry; returns its id. <paramref name="maxLength"/> trims (approximately by default).</summary>
    public static RedisCommand XAdd(string key, IReadOnlyList<StreamField> fields, string id = "*", long? maxLength = null, bool approximate = true, bool noMakeStream = false)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0)
        {
            throw new ArgumentException("A stream entry needs at least one field.", nameof(fields));
        }

        // Sized exactly and filled in place: this is the publish hot path.
        var length = 2 + (noMakeStream ? 1 : 0) + (maxLength is null ? 0 : 3) + (fields.Count * 2);
        var args = new RedisArg[length];
        var at = 0;
        args[at++] = key;
        if (noMakeStream)
        {
            args[at++] = "NOMKSTREAM";
        }

        if (maxLength is { } max)
        {
            args[at++] = "MAXLEN";
            args[at++] = approximate ? "~" : "=";
            args[at++] = max;
        }

        args[at++] = id;
        for (var i = 0; i < fields.Count; i++)
        {
            args[at++] = fields[i].Name;
            args[at++] = fields[i].Value;
        }

        return new RedisCommand("XADD", args, 0);
    }

    /// <summary>Sends XADD; returns the new entry's id (null with NOMKSTREAM when the stream does not exist).</summary>
    public static async Task<string?> XAddAsync(this IRedisClient redis, string key, IReadOnlyList<StreamField> fields, string id = "*",
        long? maxLength = null, bool approximate = true, bool noMakeStream = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var reply = await redis.ExecuteAsync(XAdd(key, fields, id, maxLength, approximate, noMakeStream), cancellationToken).ConfigureAwait(false);
        return reply.AsString();
    }

    /// <summary>XREADGROUP on one or more streams (all in one hash slot on Cluster). Use <c>&gt;</c> for new entries, <c>0</c> for the consumer's own pending ones.</summary>
    public static RedisCommand XReadGroup(string group, string consumer, IReadOnlyList<(string Key, string Id)> streams, int count = 0, TimeSpan? block = null, bool noAck = false)
    {
        ArgumentNullException.ThrowIfNull(streams);
        if (streams.Count == 0)
        {
            throw new ArgumentException("XREADGROUP needs at least one stream.", nameof(streams));
        }

        var args = new List<RedisArg>(8 + (streams.Count * 2)) { "GROUP", group, consumer };
        if (count > 0)
        {
            args.Add("COUNT");
            args.Add(count);
        }

        if (block is { } wait)
        {
            args.Add("BLOCK");
            args.Add((long)wait.TotalMilliseconds);
        }

        if (noAck)
        {
            args.Add("NOACK");
        }

        args.Add("STREAMS");
        var firstKey = args.Count;
        foreach (var (key, _) in streams)
        {
            args.Add(key);
        }

        foreach (var (_, id) in streams)
        {
            args.Add(id);
        }

        return new RedisCommand("XREADGROUP", [.. args], firstKey);
    }

    /// <summary>
    /// Reads from one stream for a group. With <paramref name="block"/> the command waits on the
    /// server, on a dedicated connection; an empty list means the wait ended with nothing new.
    /// </summary>
    public static async Task<IReadOnlyList<StreamEntry>> XReadGroupAsync(this IRedisClient redis, string key, string group, string consumer,
        string id = ">", int count = 0, TimeSpan? block = null, bool noAck = false, CancellationToken cancellationToken = default)
    {
        var results = await redis.XReadGroupAsync(group, consumer, [(key, id)], count, block, noAck, cancellationToken).ConfigureAwait(false);
        return results.Count == 0 ? [] : results[0].Entries;
    }

    /// <summary>Reads from several streams for a group (see the single-stream overload).</summary>
    public static async Task<IReadOnlyList<StreamReadResult>> XReadGroupAsync(this IRedisClient redis, string group, string consumer,
        IReadOnlyList<(string Key, string Id)> streams, int count = 0, TimeSpan? block = null, bool noAck = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var command = XReadGroup(group, consumer, streams, count, block, noAck);
        var reply = block is { } wait
            ? await redis.ExecuteBlockingAsync(command, wait, cancellationToken).ConfigureAwait(false)
            : await redis.ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
        return ParseReadResults(reply);
    }

    /// <summary>XACK: acknowledges entries; returns how many were pending.</summary>
    public static RedisCommand XAck(string key, string group, IReadOnlyList<string> ids) =>
        new("XACK", [key, group, .. ids.Select(i => (RedisArg)i)], 0);

    /// <summary>Sends XACK; returns how many of the ids were pending and are now acknowledged.</summary>
    public static async Task<long> XAckAsync(this IRedisClient redis, string key, string group, IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(XAck(key, group, ids), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>XAUTOCLAIM: takes over entries idle at least <paramref name="minIdle"/>, scanning from <paramref name="start"/>.</summary>
    public static RedisCommand XAutoClaim(string key, string group, string consumer, TimeSpan minIdle, string start = "0-0", int count = 100) =>
        new("XAUTOCLAIM", [key, group, consumer, (long)minIdle.TotalMilliseconds, start, "COUNT", count], 0);

    /// <summary>Sends XAUTOCLAIM and reads its three-part reply.</summary>
    public static async Task<AutoClaimResult> XAutoClaimAsync(this IRedisClient redis, string key, string group, string consumer, TimeSpan minIdle,
        string start = "0-0", int count = 100, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var reply = await redis.ExecuteAsync(XAutoClaim(key, group, consumer, minIdle, start, count), cancellationToken).ConfigureAwait(false);
        var deleted = reply.Count > 2 ? reply[2].Items.Select(i => i.AsString()!).ToArray() : [];
        return new AutoClaimResult(reply[0].AsString()!, ParseEntries(reply[1]), deleted);
    }

    /// <summary>
    /// XCLAIM ... JUSTID: claims entries for <paramref name="consumer"/> if idle at least <paramref name="minIdle"/>.
    /// Claiming an entry one already holds resets its idle time: a cheap lease extension.
    /// </summary>
    public static RedisCommand XClaimIds(string key, string group, string consumer, TimeSpan minIdle, IReadOnlyList<string> ids) =>
        new("XCLAIM", [key, group, consumer, (long)minIdle.TotalMilliseconds, .. ids.Select(i => (RedisArg)i), "JUSTID"], 0);

    /// <summary>Sends XCLAIM ... JUSTID; returns the ids claimed.</summary>
    public static async Task<IReadOnlyList<string>> XClaimIdsAsync(this IRedisClient redis, string key, string group, string consumer, TimeSpan minIdle,
        IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var reply = await redis.ExecuteAsync(XClaimIds(key, group, consumer, minIdle, ids), cancellationToken).ConfigureAwait(false);
        return reply.Items.Select(i => i.AsString()!).ToArray();
    }

    /// <summary>XPENDING summary form.</summary>
    public static RedisCommand XPendingSummary(string key, string group) => new("XPENDING", [key, group], 0);

    /// <summary>Sends XPENDING (summary): count, lowest and highest pending id, and pending per consumer.</summary>
    public static async Task<PendingSummary> XPendingSummaryAsync(this IRedisClient redis, string key, string group, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var reply = await redis.ExecuteAsync(XPendingSummary(key, group), cancellationToken).ConfigureAwait(false);
        var consumers = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var row in reply[3].Items)
        {
            consumers[row[0].AsString()!] = row[1].AsInt64();
        }

        return new PendingSummary(reply[0].AsInt64(), reply[1].AsString(), reply[2].AsString(), consumers);
    }

    /// <summary>XPENDING extended form: up to <paramref name="count"/> entries between the ids, optionally idle at least <paramref name="minIdle"/> and of one consumer.</summary>
    public static RedisCommand XPending(string key, string group, int count, string start = "-", string end = "+", TimeSpan? minIdle = null, string? consumer = null)
    {
        var args = new List<RedisArg> { key, group };
        if (minIdle is { } idle)
        {
            args.Add("IDLE");
            args.Add((long)idle.TotalMilliseconds);
        }

        args.AddRange([start, end, count]);
        if (consumer is not null)
        {
            args.Add(consumer);
        }

        return new RedisCommand("XPENDING", [.. args], 0);
    }

    /// <summary>Sends XPENDING (extended): who holds each entry, for how long, and how often it was delivered.</summary>
    public static async Task<IReadOnlyList<PendingEntry>> XPendingAsync(this IRedisClient redis, string key, string group, int count,
        string start = "-", string end = "+", TimeSpan? minIdle = null, string? consumer = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var reply = await redis.ExecuteAsync(XPending(key, group, count, start, end, minIdle, consumer), cancellationToken).ConfigureAwait(false);
        return reply.Items.Select(r => new PendingEntry(r[0].AsString()!, r[1].AsString()!, TimeSpan.FromMilliseconds(r[2].AsInt64()), r[3].AsInt64())).ToArray();
    }

    /// <summary>XLEN.</summary>
    public static RedisCommand XLen(string key) => new("XLEN", [key], 0);

    /// <summary>Sends XLEN.</summary>
    public static async Task<long> XLenAsync(this IRedisClient redis, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(XLen(key), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>XDEL.</summary>
    public static RedisCommand XDel(string key, IReadOnlyList<string> ids) => new("XDEL", [key, .. ids.Select(i => (RedisArg)i)], 0);

    /// <summary>Sends XDEL; returns how many entries were deleted.</summary>
    public static async Task<long> XDelAsync(this IRedisClient redis, string key, IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(XDel(key, ids), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>XTRIM by MAXLEN or MINID (exact, or approximate with an optional LIMIT).</summary>
    public static RedisCommand XTrim(string key, StreamTrim strategy, RedisArg threshold, bool approximate = false, long? limit = null)
    {
        var args = new List<RedisArg> { key, strategy == StreamTrim.MinId ? "MINID" : "MAXLEN", approximate ? "~" : "=", threshold };
        if (limit is { } l)
        {
            args.Add("LIMIT");
            args.Add(l);
        }

        return new RedisCommand("XTRIM", [.. args], 0);
    }

    /// <summary>Sends XTRIM ... MINID: removes entries with ids below <paramref name="minId"/>; returns how many.</summary>
    public static async Task<long> XTrimMinIdAsync(this IRedisClient redis, string key, string minId, bool approximate = false, long? limit = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(XTrim(key, StreamTrim.MinId, minId, approximate, limit), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>Sends XTRIM ... MAXLEN: keeps the newest <paramref name="maxLength"/> entries; returns how many were removed.</summary>
    public static async Task<long> XTrimMaxLengthAsync(this IRedisClient redis, string key, long maxLength, bool approximate = false, long? limit = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return (await redis.ExecuteAsync(XTrim(key, StreamTrim.MaxLength, maxLength, approximate, limit), cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    /// <summary>XRANGE from <paramref name="start"/> to <paramref name="end"/> (ids, or - and +).</summary>
    public static RedisCommand XRange(string key, string start = "-", string end = "+", int count = 0) =>
        count > 0 ? new("XRANGE", [key, start, end, "COUNT", count], 0) : new("XRANGE", [key, start, end], 0);

    /// <summary>Sends XRANGE.</summary>
    public static async Task<IReadOnlyList<StreamEntry>> XRangeAsync(this IRedisClient redis, string key, string start = "-", string end = "+", int count = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return ParseEntries(await redis.ExecuteAsync(XRange(key, start, end, count), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>XREVRANGE from <paramref name="end"/> down to <paramref name="start"/>.</summary>
    public static RedisCommand XRevRange(string key, string end = "+", string start = "-", int count = 0) =>
        count > 0 ? new("XREVRANGE", [key, end, start, "COUNT", count], 0) : new("XREVRANGE", [key, end, start], 0);

    /// <summary>Sends XREVRANGE (newest first).</summary>
    public static async Task<IReadOnlyList<StreamEntry>> XRevRangeAsync(this IRedisClient redis, string key, string end = "+", string start = "-", int count = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(redis);
        return ParseEntries(await redis.ExecuteAsync(XRevRange(key, end, start, count), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Reads a list of entries ([id, [field, value, ...]] ...). Deleted entries (null) are skipped.</summary>
    public static IReadOnlyList<StreamEntry> ParseEntries(RedisReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.IsNull || reply.Count == 0)
        {
            return [];
        }

        var entries = new List<StreamEntry>(reply.Count);
        foreach (var item in reply.ItemArray)
        {
            if (item.IsNull || item.Count < 2)
            {
                continue;
            }

            entries.Add(ParseEntry(item));
        }

        return entries;
    }

    /// <summary>Reads one entry ([id, [field, value, ...]]).</summary>
    public static StreamEntry ParseEntry(RedisReply item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var flat = item[1].ItemArray;
        var fields = new StreamField[flat.Length / 2];
        for (var i = 0; i < fields.Length; i++)
        {
            fields[i] = new StreamField(flat[2 * i].AsString()!, flat[(2 * i) + 1].AsBytes() ?? []);
        }

        return new StreamEntry(item[0].AsString()!, fields);
    }

    /// <summary>Reads an XREAD/XREADGROUP reply: an array of [key, entries] (RESP2) or a map of key to entries (RESP3). Null means nothing.</summary>
    public static IReadOnlyList<StreamReadResult> ParseReadResults(RedisReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.IsNull)
        {
            return [];
        }

        if (reply.Kind == RedisReplyKind.Map)
        {
            return reply.AsPairs().Select(p => new StreamReadResult(p.Key, ParseEntries(p.Value))).ToArray();
        }

        return reply.Items.Select(r => new StreamReadResult(r[0].AsString()!, ParseEntries(r[1]))).ToArray();
    }
}
