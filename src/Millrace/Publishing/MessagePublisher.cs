using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Publishes to partitioned queues. A message goes to the partition of its partition key (or dedup
/// key), else partitions are used in turn. Plain messages are one XADD; deduplicated ones run an
/// atomic script; a batch is one write (per Cluster node). Crash safety: a publish whose task
/// completed is in Redis; one that failed with a connection error may or may not be (retry with a
/// dedup key or a fixed id to make the retry safe).
/// </summary>
internal sealed partial class MessagePublisher(MillraceRuntime runtime, ILogger<MessagePublisher>? logger = null) : IMessagePublisher
{
    private static readonly TimeSpan TrimEvery = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, long> _lastTrim = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _declared = new(StringComparer.Ordinal);
    private int _roundRobin = -1;

    public async Task<PublishResult> PublishAsync(OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        var results = await PublishBatchAsync([message], cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    public async Task<IReadOnlyList<PublishResult>> PublishBatchAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Count == 0)
        {
            return [];
        }

        await DeclareOnceAsync(messages, cancellationToken).ConfigureAwait(false);
        using var activity = MillraceTelemetry.Activities.HasListeners()
            ? MillraceTelemetry.Activities.StartActivity($"publish {messages[0].Queue}", ActivityKind.Producer)
            : null;
        var now = runtime.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var commands = new List<RedisCommand>(messages.Count + 1);
        var planned = new (string Id, int Partition, DateTimeOffset? DeliverAt)[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            var keys = runtime.Keys(Validate(message));
            var partition = Route(message, keys.Partitions);
            var id = message.Id ?? MessageIds.New(runtime.Time.GetUtcNow());
            var fields = Envelope.Encode(message, id, now, TraceContext.Inject(message.Headers, activity));
            // Due times are stored in whole milliseconds: report exactly what is stored.
            var deliverAt = TruncateToMilliseconds(message.DeliverAt ?? (message.Delay is { } delay ? runtime.Time.GetUtcNow() + delay : null));
            commands.Add(deliverAt is { } due
                ? ScheduledCommand(keys, partition, id, message, fields, due)
                : message.DedupKey is null
                    ? StreamCommands.XAdd(keys.Stream(partition, keys.LevelOf(message.Priority)), fields)
                    : DeduplicatedCommand(keys, partition, id, message, fields));
            planned[i] = (id, partition, deliverAt);
        }

        AddTrimsDue(messages, planned, commands, now);
        var replies = await runtime.Redis.ExecuteBatchAsync(commands, cancellationToken).ConfigureAwait(false);

        var results = new PublishResult[messages.Count];
        var added = 0;
        var addedToFirstQueue = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            var reply = replies[i].ThrowIfError(commands[i].Name);
            if (planned[i].DeliverAt is { } deliverAt)
            {
                var duplicate = reply[1].AsInt64() == 1;
                results[i] = new PublishResult(reply[0].AsString()!, null, planned[i].Partition, duplicate, duplicate ? null : deliverAt);
            }
            else if (messages[i].DedupKey is null)
            {
                results[i] = new PublishResult(planned[i].Id, reply.AsString(), planned[i].Partition, false);
            }
            else
            {
                var duplicate = reply[2].AsInt64() == 1;
                results[i] = new PublishResult(reply[0].AsString()!, duplicate ? null : reply[1].AsString(), planned[i].Partition, duplicate);
            }

            if (!results[i].Duplicate)
            {
                added++;
                runtime.Statistics.Published(messages[i].Queue, 1);
                if (messages[i].Queue == messages[0].Queue)
                {
                    addedToFirstQueue++;
                }
                else
                {
                    // A batch mixing queues (a journal replay, say): each message counts for its own queue.
                    runtime.Telemetry.Published.Add(1, new KeyValuePair<string, object?>("queue", messages[i].Queue));
                }
            }
        }

        // Trim replies (after the messages) only report how much went; their errors must not fail a publish that succeeded.
        runtime.Telemetry.Published.Add(addedToFirstQueue, new KeyValuePair<string, object?>("queue", messages[0].Queue));
        if (runtime.Tasks.Enabled && added > 0)
        {
            await TrackAsync(messages, results, now, cancellationToken).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>
    /// The first publish of a queue in this process records it in the queue registry (so operators
    /// see it before any consumer starts) and checks that its partition count agrees with Redis.
    /// </summary>
    private async ValueTask DeclareOnceAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var queue = messages[i].Queue;
            if (queue is null || (i > 0 && queue == messages[i - 1].Queue))
            {
                continue;
            }

            var declared = _declared.GetOrAdd(queue, q => runtime.DeclareAsync(q, CancellationToken.None));
            try
            {
                await declared.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _declared.TryRemove(KeyValuePair.Create(queue, declared));   // try again at the next publish
                throw;
            }
        }
    }

    /// <summary>
    /// Records the new messages as pending or scheduled. They are already in Redis: if this write
    /// fails the publish still succeeded, and the records appear when consumers start them.
    /// </summary>
    private async Task TrackAsync(IReadOnlyList<OutgoingMessage> messages, PublishResult[] results, long nowMs, CancellationToken cancellationToken)
    {
        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(nowMs);
        var commands = new List<RedisCommand>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            if (!results[i].Duplicate)
            {
                commands.Add(runtime.Tasks.Published(messages[i], results[i].MessageId, results[i].DeliverAt is not null, createdAt));
            }
        }

        try
        {
            foreach (var reply in await runtime.Redis.ExecuteBatchAsync(commands, cancellationToken).ConfigureAwait(false))
            {
                reply.ThrowIfError("task record");
            }
        }
        catch (RedisException e)
        {
            if (logger is not null)
            {
                TrackingFailed(logger, e, commands.Count, messages[0].Queue);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} messages were published to {Queue} but their task records could not be written; they appear when a consumer starts them")]
    private static partial void TrackingFailed(ILogger logger, Exception error, int count, string queue);

    private string Validate(OutgoingMessage message)
    {
        if (message.Payload.Length > runtime.Options.MaxPayloadBytes)
        {
            throw new ArgumentException(
                $"The payload for queue '{message.Queue}' is {message.Payload.Length} bytes; the limit is {runtime.Options.MaxPayloadBytes} (MaxPayloadBytes). Nothing was published.");
        }

        QueueName.Validate(message.Queue);
        if (string.IsNullOrWhiteSpace(message.Type))
        {
            throw new ArgumentException($"A message for queue '{message.Queue}' has no type.");
        }

        if (message.DedupKey is { Length: 0 })
        {
            throw new ArgumentException("The dedup key is empty; leave it null for no deduplication.");
        }

        return message.Queue;
    }

    private static DateTimeOffset? TruncateToMilliseconds(DateTimeOffset? time) =>
        time is { } t ? DateTimeOffset.FromUnixTimeMilliseconds(t.ToUnixTimeMilliseconds()) : null;

    private int Route(OutgoingMessage message, int partitions)
    {
        if (partitions == 1)
        {
            return 0;
        }

        var key = message.PartitionKey ?? message.DedupKey;
        if (key is not null)
        {
            return HashSlot.Of(Encoding.UTF8.GetBytes(key)) % partitions;
        }

        return (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)partitions);
    }

    private RedisCommand DeduplicatedCommand(QueueKeys keys, int partition, string id, OutgoingMessage message, StreamField[] fields)
    {
        var ttl = (long)(message.DedupTtl ?? runtime.Options.DefaultDedupTtl).TotalMilliseconds;
        var args = new RedisArg[2 + (fields.Length * 2)];
        args[0] = ttl;
        args[1] = id;
        for (var f = 0; f < fields.Length; f++)
        {
            args[2 + (2 * f)] = fields[f].Name;
            args[3 + (2 * f)] = fields[f].Value;
        }

        return PublishScripts.PublishDeduplicated.Command([keys.Stream(partition, keys.LevelOf(message.Priority)), keys.Dedup(partition, message.DedupKey!), keys.Markers(partition)], args);
    }

    /// <summary>A delayed message: its fields (with deliver_at) wait in the partition's delayed set until due.</summary>
    private RedisCommand ScheduledCommand(QueueKeys keys, int partition, string id, OutgoingMessage message, StreamField[] fields, DateTimeOffset due)
    {
        var dueMs = due.ToUnixTimeMilliseconds();
        var body = FieldCodec.Encode([.. fields, new StreamField(EnvelopeFields.DeliverAt, dueMs.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        if (message.DedupKey is null)
        {
            return DelayScripts.Schedule.Command([keys.Delayed(partition), keys.DelayedBodies(partition)], [dueMs, id, body, keys.Events]);
        }

        var ttl = (long)(message.DedupTtl ?? runtime.Options.DefaultDedupTtl).TotalMilliseconds;
        return DelayScripts.Schedule.Command(
            [keys.Delayed(partition), keys.DelayedBodies(partition), keys.Dedup(partition, message.DedupKey), keys.Markers(partition)],
            [dueMs, id, body, keys.Events, ttl, id]);
    }

    /// <summary>Adds, at most once a second per partition, the capped queues' trim to this write: no extra round trip.</summary>
    private void AddTrimsDue(IReadOnlyList<OutgoingMessage> messages, (string Id, int Partition, DateTimeOffset? DeliverAt)[] planned, List<RedisCommand> commands, long now)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var queue = runtime.Options.Queue(messages[i].Queue);
            if (queue.MaxLength is not { } cap)
            {
                continue;
            }

            var keys = runtime.Keys(messages[i].Queue);
            var stream = keys.Stream(planned[i].Partition, keys.LevelOf(messages[i].Priority));
            var last = _lastTrim.GetOrAdd(stream, 0);
            if (now - last < TrimEvery.TotalMilliseconds || !_lastTrim.TryUpdate(stream, now, last))
            {
                continue;
            }

            commands.Add(PublishScripts.TrimAcknowledged.Command([stream], [cap, queue.MaxLengthDropsUnacknowledged ? "1" : "0"]));
        }
    }
}
