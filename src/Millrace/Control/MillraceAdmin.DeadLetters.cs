using Millrace.Redis;

namespace Millrace;

public sealed partial class MillraceAdmin
{
    private const int Page = 500;

    /// <summary>The newest dead letters of a queue (all partitions), up to <paramref name="count"/>, optionally filtered.</summary>
    public async Task<IReadOnlyList<DeadLetter>> DeadLettersAsync(string queue, int count = 50, DeadLetterFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var keys = Keys(queue);
        var found = new List<DeadLetter>();
        for (var p = 0; p < keys.Partitions; p++)
        {
            await foreach (var letter in ScanAsync(keys, p, newestFirst: true, cancellationToken).ConfigureAwait(false))
            {
                if (filter?.Matches(letter) ?? true)
                {
                    found.Add(letter);
                    if (found.Count(l => l.Id.StartsWith($"{p}/", StringComparison.Ordinal)) >= count)
                    {
                        break;
                    }
                }
            }
        }

        return found.OrderByDescending(l => l.LastFailedAt).ThenByDescending(l => l.Id, StringComparer.Ordinal).Take(count).ToArray();
    }

    /// <summary>How many dead letters a queue holds.</summary>
    public async Task<long> DeadLetterCountAsync(string queue, CancellationToken cancellationToken = default)
    {
        var keys = Keys(queue);
        var lengths = await Redis.ExecuteBatchAsync(keys.Streams.Select((_, p) => StreamCommands.XLen(keys.Dead(p))).ToArray(), cancellationToken).ConfigureAwait(false);
        return lengths.Sum(l => l.AsInt64());
    }

    /// <summary>One dead letter by id, or null.</summary>
    public async Task<DeadLetter?> DeadLetterAsync(string queue, string id, CancellationToken cancellationToken = default)
    {
        var keys = Keys(queue);
        var (p, entryId) = DeadLetter.ParseId(id, keys.Partitions);
        var entries = await Redis.XRangeAsync(keys.Dead(p), entryId, entryId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return entries.Count == 0 ? null : DeadLetter.From(queue, p, entries[0]);
    }

    /// <summary>Moves one dead letter back to its queue as a fresh first attempt; false when it does not exist.</summary>
    public async Task<bool> RequeueDeadLetterAsync(string queue, string id, CancellationToken cancellationToken = default)
    {
        var keys = Keys(queue);
        var (p, entryId) = DeadLetter.ParseId(id, keys.Partitions);
        // The task record (if any) says pending before the message is back, so a consumer's "processing" comes after it.
        if (await DeadLetterAsync(queue, id, cancellationToken).ConfigureAwait(false) is { MessageId: { } messageId })
        {
            await TrackRequeuedAsync(queue, messageId, cancellationToken).ConfigureAwait(false);
        }

        var reply = await Redis.ExecuteAsync(ControlScripts.Requeue.Command([keys.Dead(p), .. keys.LevelStreams(p)], [entryId]), cancellationToken).ConfigureAwait(false);
        return !reply.IsNull;
    }

    /// <summary>
    /// Moves every dead letter matching <paramref name="filter"/> back to its queue; with
    /// <paramref name="dryRun"/>, only reports what it would move and moves nothing.
    /// </summary>
    public async Task<BulkRequeueResult> RequeueDeadLettersAsync(string queue, DeadLetterFilter filter, bool dryRun, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var keys = Keys(queue);
        var matched = new List<string>();
        for (var p = 0; p < keys.Partitions; p++)
        {
            await foreach (var letter in ScanAsync(keys, p, newestFirst: false, cancellationToken).ConfigureAwait(false))
            {
                if (filter.Matches(letter))
                {
                    matched.Add(letter.Id);
                }
            }
        }

        var requeued = 0;
        if (!dryRun)
        {
            foreach (var id in matched)
            {
                requeued += await RequeueDeadLetterAsync(queue, id, cancellationToken).ConfigureAwait(false) ? 1 : 0;
            }
        }

        return new BulkRequeueResult(dryRun, matched.Count, requeued, matched);
    }

    /// <summary>Deletes one dead letter; false when it does not exist.</summary>
    public async Task<bool> DeleteDeadLetterAsync(string queue, string id, CancellationToken cancellationToken = default)
    {
        var keys = Keys(queue);
        var (p, entryId) = DeadLetter.ParseId(id, keys.Partitions);
        return await Redis.XDelAsync(keys.Dead(p), [entryId], cancellationToken).ConfigureAwait(false) > 0;
    }

    /// <summary>Deletes every dead letter of a queue; returns how many there were.</summary>
    public async Task<long> PurgeDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        var count = await DeadLetterCountAsync(queue, cancellationToken).ConfigureAwait(false);
        var keys = Keys(queue);
        for (var p = 0; p < keys.Partitions; p++)
        {
            await Redis.DelAsync([keys.Dead(p)], cancellationToken).ConfigureAwait(false);
        }

        return count;
    }

    private async IAsyncEnumerable<DeadLetter> ScanAsync(QueueKeys keys, int partition, bool newestFirst, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = keys.Dead(partition);
        var cursor = newestFirst ? "+" : "-";
        while (true)
        {
            var page = newestFirst
                ? await Redis.XRevRangeAsync(stream, cursor, "-", Page, cancellationToken).ConfigureAwait(false)
                : await Redis.XRangeAsync(stream, cursor, "+", Page, cancellationToken).ConfigureAwait(false);
            foreach (var entry in page)
            {
                yield return DeadLetter.From(keys.Queue, partition, entry);
            }

            if (page.Count < Page)
            {
                yield break;
            }

            cursor = "(" + page[^1].Id;   // exclusive: continue after the last one seen
        }
    }
}
