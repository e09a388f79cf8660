using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Millrace.Redis;

namespace Millrace;

public sealed partial class MillraceAdmin
{
    /// <summary>A message's task record; null when there is none (tracking off, expired, or an unknown id).</summary>
    public async Task<TaskRecord?> TaskAsync(string messageId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(messageId);
        var records = await ReadTasksAsync([messageId], cancellationToken).ConfigureAwait(false);
        return records[0].Record;
    }

    /// <summary>
    /// Lists task records by state, type or queue, newest change first, a page at a time. Reads an
    /// index, never the keyspace. Records that expired are skipped (a page may then hold fewer than
    /// <see cref="TaskQuery.Limit"/> and still have a next page).
    /// </summary>
    public async Task<TaskPage> TasksAsync(TaskQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"The task page size is {query.Limit}; allowed 1 to 1000.");
        }

        if (query.Cursor is not null && !TaskKeys.IsMember(query.Cursor))
        {
            throw new ArgumentException($"The cursor '{query.Cursor}' is not one this API returned; pass NextCursor from the previous page.", nameof(query));
        }

        var keys = _runtime.Tasks.Keys;
        var index = (query.State, query.Type, query.Queue) switch
        {
            ({ } state, { } type, _) => keys.ByTypeAndState(type, state),
            ({ } state, null, _) => keys.ByState(state),
            (null, { } type, _) => keys.ByType(type),
            (null, null, { } queue) => keys.ByQueue(QueueName.Validate(queue)),
            _ => keys.All,
        };
        var members = await Redis.ExecuteAsync(
            new RedisCommand("ZRANGE", [index, query.Cursor is null ? "+" : "(" + query.Cursor, "-", "BYLEX", "REV", "LIMIT", 0, query.Limit], 0),
            cancellationToken).ConfigureAwait(false);
        var found = members.Items.Select(m => m.AsString()!).ToArray();
        var records = await ReadTasksAsync([.. found.Select(TaskKeys.IdOf)], cancellationToken).ConfigureAwait(false);

        // Index members whose record expired are dropped from this index now. A record that changed
        // between the two reads (its member moved) is skipped: it belongs to another page or index now.
        var stale = found.Where((m, i) => records[i].Record is null).Select(m => (RedisArg)m).ToArray();
        var current = records.Select((r, i) => r.Member == found[i] ? r.Record : null).ToArray();
        if (stale.Length > 0)
        {
            await Redis.ExecuteAsync(new RedisCommand("ZREM", [index, .. stale], 0), cancellationToken).ConfigureAwait(false);
        }

        return new TaskPage(
            [.. current.OfType<TaskRecord>()],
            found.Length == query.Limit ? found[^1] : null);
    }

    /// <summary>
    /// Lifecycle events after <paramref name="afterId"/>, oldest first; with no <paramref name="afterId"/>,
    /// the latest <paramref name="count"/>.
    /// </summary>
    public async Task<IReadOnlyList<LifecycleEvent>> EventsAsync(string? afterId, int count = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 10_000);
        var events = _runtime.Tasks.Keys.Events;
        if (afterId is null or "$")
        {
            var latest = await Redis.ExecuteAsync(new RedisCommand("XREVRANGE", [events, "+", "-", "COUNT", count], 0), cancellationToken).ConfigureAwait(false);
            return [.. latest.Items.Reverse().Select(ToEvent)];
        }

        ValidateStreamId(afterId);
        var after = await Redis.ExecuteAsync(new RedisCommand("XRANGE", [events, "(" + afterId, "+", "COUNT", count], 0), cancellationToken).ConfigureAwait(false);
        return [.. after.Items.Select(ToEvent)];
    }

    /// <summary>Follows the lifecycle events as they are written, from after <paramref name="afterId"/> (or from now), until cancelled.</summary>
    public async IAsyncEnumerable<LifecycleEvent> FollowEventsAsync(string? afterId = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var events = _runtime.Tasks.Keys.Events;
        var last = afterId ?? "$";
        if (last == "$")
        {
            // "$" on every read would miss what is written between two reads: start from the latest id now.
            var latest = await Redis.ExecuteAsync(new RedisCommand("XREVRANGE", [events, "+", "-", "COUNT", 1], 0), cancellationToken).ConfigureAwait(false);
            last = latest.Count > 0 ? latest[0][0].AsString()! : "0-0";
        }
        else
        {
            ValidateStreamId(last);
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var block = TimeSpan.FromSeconds(5);
            var reply = await Redis.ExecuteBlockingAsync(
                new RedisCommand("XREAD", ["COUNT", 500, "BLOCK", (long)block.TotalMilliseconds, "STREAMS", events, last], 5), block, cancellationToken).ConfigureAwait(false);
            if (reply.IsNull)
            {
                continue;
            }

            foreach (var entry in reply[0][1].Items)
            {
                var e = ToEvent(entry);
                last = e.Id;
                yield return e;
            }
        }
    }

    private static void ValidateStreamId(string id)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        if (!StreamIds.TryGetMilliseconds(id, out _) || (dash >= 0 && (dash == id.Length - 1 || id.AsSpan(dash + 1).IndexOfAnyExceptInRange('0', '9') >= 0)))
        {
            throw new ArgumentException($"'{id}' is not a stream entry id (ms-seq, e.g. 1700000000000-0).", nameof(id));
        }
    }

    private static LifecycleEvent ToEvent(RedisReply entry)
    {
        var fields = entry[1].AsPairs().ToDictionary(p => p.Key, p => p.Value.AsString() ?? "", StringComparer.Ordinal);
        string Get(string name) => fields.TryGetValue(name, out var value) ? value : "";
        return new LifecycleEvent(
            entry[0].AsString()!,
            Get("event"),
            Get("queue"),
            Get("id"),
            Get("type"),
            int.TryParse(Get("attempt"), CultureInfo.InvariantCulture, out var attempt) ? attempt : 0,
            Get("error") is { Length: > 0 } error ? error : null,
            DateTimeOffset.FromUnixTimeMilliseconds(long.TryParse(Get("at"), CultureInfo.InvariantCulture, out var at) ? at : 0));
    }

    /// <summary>The records of <paramref name="ids"/> (null where none), each with its current index member.</summary>
    private async Task<(TaskRecord? Record, string? Member)[]> ReadTasksAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        var keys = _runtime.Tasks.Keys;
        var commands = new List<RedisCommand>(ids.Count * 2);
        foreach (var id in ids)
        {
            commands.Add(new RedisCommand("HGETALL", [keys.Record(id)], 0));
            commands.Add(new RedisCommand("LRANGE", [keys.Errors(id), 0, -1], 0));
        }

        var replies = await Redis.ExecuteBatchAsync(commands, cancellationToken).ConfigureAwait(false);
        var records = new (TaskRecord? Record, string? Member)[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            var fields = replies[2 * i].ThrowIfError("HGETALL").AsDictionary();
            if (fields.Count == 0 || !fields.ContainsKey("state"))
            {
                continue;
            }

            var errors = replies[(2 * i) + 1].ThrowIfError("LRANGE").Items.Select(e => ToError(e.AsString()!)).ToArray();
            records[i] = (ToRecord(fields, errors), fields.TryGetValue("m", out var member) ? member.AsString() : null);
        }

        return records;
    }

    private static TaskRecord ToRecord(Dictionary<string, RedisReply> fields, IReadOnlyList<TaskAttemptError> errors)
    {
        string? Text(string name) => fields.TryGetValue(name, out var value) ? value.AsString() : null;
        long Number(string name) => long.TryParse(Text(name), CultureInfo.InvariantCulture, out var n) ? n : 0;
        var headers = Text("headers") is { Length: > 0 } json
            ? JsonSerializer.Deserialize(json, HeadersJson.Default.DictionaryStringString) ?? []
            : new Dictionary<string, string>();
        return new TaskRecord(
            Text("id")!,
            Text("queue") ?? "",
            Text("type") ?? "",
            Enum.Parse<TaskState>(Text("state")!, ignoreCase: true),
            (int)Number("attempts"),
            DateTimeOffset.FromUnixTimeMilliseconds(Number("created_at")),
            DateTimeOffset.FromUnixTimeMilliseconds(Number("updated_at")),
            Text("tenant"),
            fields.TryGetValue("payload", out var payload) ? payload.AsBytes() ?? [] : ReadOnlyMemory<byte>.Empty,
            Text("payload_truncated") == "1",
            headers,
            errors,
            Text("result"));
    }

    private static TaskAttemptError ToError(string entry)
    {
        // "attempt|at ms|error"
        var first = entry.IndexOf('|', StringComparison.Ordinal);
        var second = first < 0 ? -1 : entry.IndexOf('|', first + 1);
        if (second < 0)
        {
            return new TaskAttemptError(0, DateTimeOffset.UnixEpoch, entry);
        }

        return new TaskAttemptError(
            int.TryParse(entry.AsSpan(0, first), CultureInfo.InvariantCulture, out var attempt) ? attempt : 0,
            DateTimeOffset.FromUnixTimeMilliseconds(long.TryParse(entry.AsSpan(first + 1, second - first - 1), CultureInfo.InvariantCulture, out var at) ? at : 0),
            entry[(second + 1)..]);
    }

    /// <summary>
    /// Marks a dead or stopped message pending as an operator puts it back in its stream. Done whenever it
    /// has a record, even if this process does not track (an operator tool need not): records exist only
    /// where some process tracks.
    /// </summary>
    private async Task TrackRequeuedAsync(string queue, string messageId, CancellationToken cancellationToken)
    {
        var known = await Redis.ExecuteAsync(new RedisCommand("HMGET", [_runtime.Tasks.Keys.Record(messageId), "type", "tenant", "created_at"], 0), cancellationToken).ConfigureAwait(false);
        if (known[0].AsString() is not { } type)
        {
            return;   // no record (tracking was off, or it expired): nothing to update
        }

        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(known[2].AsNullableInt64() ?? _runtime.Time.GetUtcNow().ToUnixTimeMilliseconds());
        await Redis.ExecuteAsync(_runtime.Tasks.Requeued(queue, messageId, type, known[1].AsString(), createdAt), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the task records of a terminated queue (the other indexes drop them lazily).</summary>
    private async Task DeleteTaskRecordsAsync(string queue, CancellationToken cancellationToken)
    {
        var keys = _runtime.Tasks.Keys;
        var index = keys.ByQueue(queue);
        while (true)
        {
            var members = await Redis.ExecuteAsync(new RedisCommand("ZRANGE", [index, 0, 499], 0), cancellationToken).ConfigureAwait(false);
            if (members.Count == 0)
            {
                return;
            }

            var doomed = members.Items.Select(m => m.AsString()!).ToArray();
            RedisArg[] records = [.. doomed.SelectMany(m => new[] { (RedisArg)keys.Record(TaskKeys.IdOf(m)), keys.Errors(TaskKeys.IdOf(m)) })];
            await Redis.ExecuteBatchAsync(
                [new RedisCommand("DEL", records, 0), new RedisCommand("ZREM", [index, .. doomed.Select(m => (RedisArg)m)], 0)],
                cancellationToken).ConfigureAwait(false);
        }
    }
}
