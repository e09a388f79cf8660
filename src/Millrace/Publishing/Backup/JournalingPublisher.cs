using System.Text;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// The backup producer: an <see cref="IMessagePublisher"/> that publishes straight to Redis while it
/// can, and journals to local disk when it cannot (docs/backup-producer.md).
/// <list type="bullet">
/// <item>Ids are assigned (the caller's kept) and delays made absolute first, so a journaled message
/// keeps its id and its due time.</item>
/// <item>Direct mode: the real publisher. If Redis cannot be reached, the messages are journaled
/// instead and the results say <see cref="PublishResult.Journaled"/>. From then on, until the
/// replayer has put everything back in Redis, every publish is journaled behind them (order kept).</item>
/// <item>A journaled publish has returned only after its fsync: it survives a crash of this process.</item>
/// </list>
/// </summary>
internal sealed partial class JournalingPublisher(
    MessagePublisher redis, BackupJournal journal, MillraceRuntime runtime, BackupJournalOptions options, ILogger<JournalingPublisher> logger)
    : IMessagePublisher
{
    /// <summary>The dedup key a journaled message is replayed with when it has none of its own.</summary>
    public static string ReplayDedupKey(OutgoingMessage message) => message.DedupKey ?? "journal:" + message.Id;

    public async Task<PublishResult> PublishAsync(OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
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

        var prepared = Prepare(messages);
        while (true)
        {
            if (!journal.IsJournaling)
            {
                try
                {
                    return await redis.PublishBatchAsync(prepared, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (ShouldJournal(e, prepared.Length))
                {
                    // Redis is unreachable: this publish goes to the journal and so does every later one
                    // until the replayer has caught up. Nothing was added by this call (or, after an
                    // ambiguous failure, maybe it was: see docs/backup-producer.md).
                    journal.MarkUnreachable(runtime.Time.GetUtcNow());
                    Log.Journaling(logger, e, prepared.Length, journal.Path);
                    await journal.AppendAsync(prepared, onlyWhileJournaling: false, cancellationToken).ConfigureAwait(false);
                    return Journaled(prepared);
                }
            }

            // Journaling: behind the records already there. If the replayer just finished, publish directly after all.
            if (await journal.AppendAsync(prepared, onlyWhileJournaling: true, cancellationToken).ConfigureAwait(false))
            {
                return Journaled(prepared);
            }
        }
    }

    private bool ShouldJournal(Exception error, int count) => Classify(error, count) switch
    {
        PublishFailureKind.NotSent => true,
        PublishFailureKind.MaybeSent => options.AmbiguousFailure == AmbiguousPublishFailure.Journal,
        _ => false,
    };

    /// <summary>
    /// On Cluster a batch is split per node and one node can take its part while another is
    /// unreachable; the error then says "could not connect" although part of the batch went in.
    /// </summary>
    private PublishFailureKind Classify(Exception error, int count)
    {
        var kind = PublishFailure.Classify(error, count);
        return kind == PublishFailureKind.NotSent && count > 1 && runtime.Redis.Options.Mode == RedisMode.Cluster
            ? PublishFailureKind.MaybeSent
            : kind;
    }

    /// <summary>Checks each message as the real publisher will (so a journaled message cannot fail at replay), then fixes its id and due time.</summary>
    private OutgoingMessage[] Prepare(IReadOnlyList<OutgoingMessage> messages)
    {
        var now = runtime.Time.GetUtcNow();
        var prepared = new OutgoingMessage[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw new ArgumentException($"Message {i} of the batch is null.", nameof(messages));
            Validate(message);
            var deliverAt = message.DeliverAt ?? (message.Delay is { } delay ? now + delay : null);
            prepared[i] = message.Id is not null && message.Delay is null
                ? message
                : message.With(message.Id ?? MessageIds.New(now), deliverAt, message.DedupKey, message.DedupTtl);
        }

        return prepared;
    }

    private void Validate(OutgoingMessage message)
    {
        QueueName.Validate(message.Queue);
        if (message.Payload.Length > runtime.Options.MaxPayloadBytes)
        {
            throw new ArgumentException(
                $"The payload for queue '{message.Queue}' is {message.Payload.Length} bytes; the limit is {runtime.Options.MaxPayloadBytes} (MaxPayloadBytes). Nothing was published.");
        }

        if (string.IsNullOrWhiteSpace(message.Type))
        {
            throw new ArgumentException($"A message for queue '{message.Queue}' has no type.");
        }

        if (message.DedupKey is { Length: 0 })
        {
            throw new ArgumentException("The dedup key is empty; leave it null for no deduplication.");
        }

        if (message.Id is { Length: 0 })
        {
            throw new ArgumentException("The message id is empty; leave it null for a new one.");
        }

        if (message.DedupTtl is { } ttl && ttl < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentException($"The dedup TTL is {ttl}; it must be at least 1 ms.");
        }
    }

    /// <summary>Results for journaled messages: the id they keep, the partition they will go to, no stream entry yet.</summary>
    private PublishResult[] Journaled(OutgoingMessage[] messages)
    {
        var results = new PublishResult[messages.Length];
        for (var i = 0; i < messages.Length; i++)
        {
            var message = messages[i];
            var deliverAt = message.DeliverAt is { } due ? DateTimeOffset.FromUnixTimeMilliseconds(due.ToUnixTimeMilliseconds()) : (DateTimeOffset?)null;
            results[i] = new PublishResult(message.Id!, null, PartitionOf(message), false, deliverAt, Journaled: true);
        }

        return results;
    }

    /// <summary>Where replay will put the message: routed by its partition key, else by the dedup key it is replayed with.</summary>
    private int PartitionOf(OutgoingMessage message)
    {
        var partitions = runtime.Keys(message.Queue).Partitions;
        return partitions == 1 ? 0 : HashSlot.Of(Encoding.UTF8.GetBytes(message.PartitionKey ?? ReplayDedupKey(message))) % partitions;
    }

    private static partial class Log
    {
        [LoggerMessage(910, LogLevel.Warning, "Redis is unreachable: journaling {Count} message(s) to {Path} until it is back")]
        public static partial void Journaling(ILogger logger, Exception error, int count, string path);
    }
}
