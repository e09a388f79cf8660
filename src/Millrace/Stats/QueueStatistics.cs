using System.Collections.Concurrent;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Per-minute counts shared by every process: each process counts in memory and adds its counts to
/// Redis once a second (<see cref="FlushAsync"/>), so the delivery path sends no extra command per
/// message. Counts not yet flushed when a process dies are lost: these are statistics, not state.
/// </summary>
/// <remarks>
/// Layout: a hash per queue and minute, <c>{prefix}:stats:{queue}:{minuteMs}</c>, and the same for all
/// queues under <c>_all</c> (no queue name can start with '_'); each expires after <see cref="Retention"/>.
/// </remarks>
internal sealed class QueueStatistics(string prefix, TimeProvider time)
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(2);

    private const string AllQueues = "_all";

    private static readonly string[] Fields = ["published", "processed", "failed", "retried", "dead_lettered"];

    private readonly ConcurrentDictionary<string, long[]> _pending = new(StringComparer.Ordinal);

    public long TotalProcessed => Interlocked.Read(ref _totalProcessed);

    public long TotalFailed => Interlocked.Read(ref _totalFailed);

    private long _totalProcessed;
    private long _totalFailed;

    public void Published(string queue, long count) => Add(queue, 0, count);

    public void Processed(string queue, long count)
    {
        Add(queue, 1, count);
        Interlocked.Add(ref _totalProcessed, count);
    }

    public void Failed(string queue, long count)
    {
        Add(queue, 2, count);
        Interlocked.Add(ref _totalFailed, count);
    }

    public void Retried(string queue, long count) => Add(queue, 3, count);

    public void DeadLettered(string queue, long count) => Add(queue, 4, count);

    private void Add(string queue, int field, long count) =>
        Interlocked.Add(ref _pending.GetOrAdd(queue, _ => new long[Fields.Length])[field], count);

    public static string Key(string prefix, string? queue, long minuteMs) =>
        $"{prefix}:stats:{queue ?? AllQueues}:{minuteMs}";

    /// <summary>Every bucket key of a queue that can still exist (the last <see cref="Retention"/>), for terminate.</summary>
    public static IEnumerable<string> Keys(string prefix, string queue, DateTimeOffset now)
    {
        var current = now.ToUnixTimeMilliseconds() / 60_000 * 60_000;
        return Enumerable.Range(0, (int)Retention.TotalMinutes + 1).Select(i => Key(prefix, queue, current - (i * 60_000L)));
    }

    /// <summary>Adds what was counted since the last flush to this minute's hashes; on failure the counts are kept for the next try.</summary>
    public async Task FlushAsync(IRedisClient redis, CancellationToken cancellationToken)
    {
        var minute = time.GetUtcNow().ToUnixTimeMilliseconds() / 60_000 * 60_000;
        var taken = new List<(string Queue, long[] Counts)>();
        foreach (var (queue, counters) in _pending)
        {
            var counts = new long[Fields.Length];
            for (var f = 0; f < Fields.Length; f++)
            {
                counts[f] = Interlocked.Exchange(ref counters[f], 0);
            }

            if (counts.Any(c => c != 0))
            {
                taken.Add((queue, counts));
            }
        }

        if (taken.Count == 0)
        {
            return;
        }

        var commands = new List<RedisCommand>();
        var all = new long[Fields.Length];
        foreach (var (queue, counts) in taken)
        {
            AddCommands(commands, Key(prefix, queue, minute), counts);
            for (var f = 0; f < Fields.Length; f++)
            {
                all[f] += counts[f];
            }
        }

        AddCommands(commands, Key(prefix, null, minute), all);
        try
        {
            foreach (var reply in await redis.ExecuteBatchAsync(commands, cancellationToken).ConfigureAwait(false))
            {
                reply.ThrowIfError("statistics");
            }
        }
        catch (Exception e) when (e is RedisException or OperationCanceledException)
        {
            // Put the counts back for the next flush (an error reply after a partial apply may count some twice).
            foreach (var (queue, counts) in taken)
            {
                var counters = _pending.GetOrAdd(queue, _ => new long[Fields.Length]);
                for (var f = 0; f < Fields.Length; f++)
                {
                    Interlocked.Add(ref counters[f], counts[f]);
                }
            }

            throw;
        }
    }

    private static void AddCommands(List<RedisCommand> commands, string key, long[] counts)
    {
        for (var f = 0; f < Fields.Length; f++)
        {
            if (counts[f] != 0)
            {
                commands.Add(new RedisCommand("HINCRBY", [key, Fields[f], counts[f]], 0));
            }
        }

        commands.Add(new RedisCommand("EXPIRE", [key, (long)Retention.TotalSeconds], 0));
    }

    /// <summary>Reads the last <paramref name="minutes"/> minutes, oldest first (minutes with nothing are zeros).</summary>
    public static async Task<IReadOnlyList<StatsBucket>> ReadAsync(IRedisClient redis, string prefix, string? queue, int minutes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = now.ToUnixTimeMilliseconds() / 60_000 * 60_000;
        var starts = Enumerable.Range(0, minutes).Select(i => current - ((minutes - 1 - i) * 60_000L)).ToArray();
        var replies = await redis.ExecuteBatchAsync(
            [.. starts.Select(m => new RedisCommand("HMGET", [Key(prefix, queue, m), .. Fields.Select(f => (RedisArg)f)], 0))],
            cancellationToken).ConfigureAwait(false);
        return [.. starts.Select((m, i) =>
        {
            var values = replies[i].ThrowIfError("HMGET").Items.Select(v => v.AsNullableInt64() ?? 0).ToArray();
            return new StatsBucket(DateTimeOffset.FromUnixTimeMilliseconds(m), values[0], values[1], values[2], values[3], values[4]);
        })];
    }
}
