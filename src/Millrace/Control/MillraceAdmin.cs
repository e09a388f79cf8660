using Millrace.Redis;

namespace Millrace;

/// <summary>
/// The operator's actions on queues, for the library (the HTTP API and the CLI call these).
/// Every switch is written to Redis and announced on the queue's events channel; workers follow
/// it at once, and within a second even if the announcement is missed.
/// </summary>
public sealed partial class MillraceAdmin
{
    private readonly MillraceRuntime _runtime;

    internal MillraceAdmin(MillraceRuntime runtime) => _runtime = runtime;

    private IRedisClient Redis => _runtime.Redis;

    /// <summary>Pauses a queue: no worker reads new messages from it; running handlers finish.</summary>
    public Task PauseAsync(string queue, CancellationToken cancellationToken = default) =>
        SetControlAsync(queue, ControlFields.Paused, true, cancellationToken);

    /// <summary>Resumes a paused queue.</summary>
    public Task ResumeAsync(string queue, CancellationToken cancellationToken = default) =>
        SetControlAsync(queue, ControlFields.Paused, false, cancellationToken);

    /// <summary>Pauses one message type on a queue: its messages are parked as they arrive until the type is resumed.</summary>
    public Task PauseTypeAsync(string queue, string type, CancellationToken cancellationToken = default) =>
        SetControlAsync(queue, ControlFields.PausedTypePrefix + type, true, cancellationToken);

    /// <summary>Resumes a paused type: its parked messages go back to the end of their streams (stopped messages stay parked).</summary>
    public async Task<int> ResumeTypeAsync(string queue, string type, CancellationToken cancellationToken = default)
    {
        await SetControlAsync(queue, ControlFields.PausedTypePrefix + type, false, cancellationToken).ConfigureAwait(false);
        var keys = Keys(queue);
        var stopped = await StoppedAsync(keys, cancellationToken).ConfigureAwait(false);
        var moved = 0;
        for (var p = 0; p < keys.Partitions; p++)
        {
            var parked = (await Redis.ExecuteAsync(new RedisCommand("HGETALL", [keys.Parked(p)], 0), cancellationToken).ConfigureAwait(false)).AsPairs();
            foreach (var (messageId, body) in parked)
            {
                var fields = FieldCodec.Decode(body.AsBytes());
                if (!stopped.Contains(messageId) && fields.Any(f => f.Name == EnvelopeFields.Type && f.ValueText == type))
                {
                    await TrackRequeuedAsync(queue, messageId, cancellationToken).ConfigureAwait(false);
                    moved += await UnparkAsync(keys, p, messageId, cancellationToken).ConfigureAwait(false) ? 1 : 0;
                }
            }
        }

        return moved;
    }

    /// <summary>Stops one message for every consumer: nobody handles it until it is resumed (a handler already running it finishes).</summary>
    public async Task StopMessageAsync(string queue, string messageId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        var keys = Keys(queue);
        await Redis.ExecuteAsync(new RedisCommand("SADD", [keys.Stopped, messageId], 0), cancellationToken).ConfigureAwait(false);
        await AnnounceAsync(keys, ControlFields.ControlEvent, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Resumes a stopped message; if it was parked, it goes back to the end of its stream. True when it was parked.</summary>
    public async Task<bool> ResumeMessageAsync(string queue, string messageId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        var keys = Keys(queue);
        await Redis.ExecuteAsync(new RedisCommand("SREM", [keys.Stopped, messageId], 0), cancellationToken).ConfigureAwait(false);
        await AnnounceAsync(keys, ControlFields.ControlEvent, cancellationToken).ConfigureAwait(false);
        await TrackRequeuedAsync(queue, messageId, cancellationToken).ConfigureAwait(false);
        for (var p = 0; p < keys.Partitions; p++)
        {
            if (await UnparkAsync(keys, p, messageId, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Terminates a queue: its streams, delayed and parked messages, dead letters, groups, markers
    /// and control state are deleted; running consumers stop at once (their <c>Done</c> says
    /// <see cref="ConsumerStopReason.QueueDeleted"/>); the name can be used again afterwards.
    /// </summary>
    public async Task TerminateAsync(string queue, CancellationToken cancellationToken = default)
    {
        var keys = Keys(queue);
        for (var p = 0; p < keys.Partitions; p++)
        {
            // The markers expire by themselves; the index names them so nothing is left behind now.
            var markers = await Redis.ExecuteAsync(new RedisCommand("ZRANGE", [keys.Markers(p), 0, -1], 0), cancellationToken).ConfigureAwait(false);
            RedisArg[] partitionKeys = [.. keys.PartitionKeys(p).Select(k => (RedisArg)k), .. markers.Items.Select(m => (RedisArg)m.AsString()!)];
            await Redis.ExecuteAsync(new RedisCommand("DEL", partitionKeys, 0), cancellationToken).ConfigureAwait(false);
        }

        foreach (var key in new[] { keys.Meta, keys.Control, keys.Stopped, keys.Breakers })
        {
            await Redis.DelAsync([key], cancellationToken).ConfigureAwait(false);
        }

        await Redis.ExecuteAsync(new RedisCommand("SREM", [QueueKeys.Registry(_runtime.Prefix), queue], 0), cancellationToken).ConfigureAwait(false);
        await DeleteTaskRecordsAsync(queue, cancellationToken).ConfigureAwait(false);
        await Redis.ExecuteBatchAsync([.. QueueStatistics.Keys(_runtime.Prefix, queue, _runtime.Time.GetUtcNow()).Select(k => new RedisCommand("DEL", [k], 0))], cancellationToken).ConfigureAwait(false);
        await AnnounceAsync(keys, ControlFields.TerminatedEvent, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The circuit breakers of a queue's types, as workers last reported them.</summary>
    public async Task<IReadOnlyList<CircuitReport>> CircuitBreakersAsync(string queue, CancellationToken cancellationToken = default)
    {
        var all = await Redis.HGetAllAsync(Keys(queue).Breakers, cancellationToken).ConfigureAwait(false);
        return all.Select(kv =>
        {
            var colon = kv.Key.IndexOf(':', StringComparison.Ordinal);
            var f = System.Text.Json.JsonSerializer.Deserialize(kv.Value, HeadersJson.Default.DictionaryStringString)!;
            return new CircuitReport(kv.Key[..colon], kv.Key[(colon + 1)..], Enum.Parse<CircuitState>(f["state"]), f["consumer"],
                DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(f["open_until"], System.Globalization.CultureInfo.InvariantCulture)),
                DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(f["changed_at"], System.Globalization.CultureInfo.InvariantCulture)));
        }).ToArray();
    }

    /// <summary>Whether a queue is paused, and which of its types are.</summary>
    public async Task<(bool Paused, IReadOnlyList<string> PausedTypes)> ControlStateAsync(string queue, CancellationToken cancellationToken = default)
    {
        var control = await Redis.HGetAllAsync(Keys(queue).Control, cancellationToken).ConfigureAwait(false);
        return (control.GetValueOrDefault(ControlFields.Paused) == "1",
            control.Where(kv => kv.Key.StartsWith(ControlFields.PausedTypePrefix, StringComparison.Ordinal) && kv.Value == "1")
                .Select(kv => kv.Key[ControlFields.PausedTypePrefix.Length..]).ToArray());
    }

    private QueueKeys Keys(string queue) => _runtime.Keys(QueueName.Validate(queue));

    private async Task SetControlAsync(string queue, string field, bool on, CancellationToken cancellationToken)
    {
        var keys = Keys(queue);
        var command = on ? new RedisCommand("HSET", [keys.Control, field, "1"], 0) : new RedisCommand("HDEL", [keys.Control, field], 0);
        await Redis.ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
        await AnnounceAsync(keys, ControlFields.ControlEvent, cancellationToken).ConfigureAwait(false);
    }

    private async Task AnnounceAsync(QueueKeys keys, string what, CancellationToken cancellationToken) =>
        await Redis.PublishAsync(keys.Events, what, cancellationToken).ConfigureAwait(false);

    private async Task<HashSet<string>> StoppedAsync(QueueKeys keys, CancellationToken cancellationToken)
    {
        var reply = await Redis.ExecuteAsync(new RedisCommand("SMEMBERS", [keys.Stopped], 0), cancellationToken).ConfigureAwait(false);
        return reply.Items.Select(i => i.AsString()!).ToHashSet(StringComparer.Ordinal);
    }

    private async Task<bool> UnparkAsync(QueueKeys keys, int partition, string messageId, CancellationToken cancellationToken)
    {
        var reply = await Redis.ExecuteAsync(ControlScripts.Unpark.Command([keys.Parked(partition), .. keys.LevelStreams(partition)], [messageId]), cancellationToken).ConfigureAwait(false);
        return !reply.IsNull;
    }
}
