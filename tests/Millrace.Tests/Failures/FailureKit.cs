using Millrace.Redis;
using Millrace.Redis.Tests.Support;

namespace Millrace.Tests.Failures;

/// <summary>Small helpers shared by the failure-handling and operator-control tests.</summary>
internal static class FailureKit
{
    /// <summary>Turns the host's logging off (for tests that produce thousands of expected failures).</summary>
    public static MillraceBuilder Quiet(this MillraceBuilder m)
    {
        m.Services.Configure<LoggerFilterOptions>(o => o.MinLevel = LogLevel.None);
        return m;
    }

    /// <summary>Every key matching <paramref name="pattern"/>, by a full SCAN (cursor looped until 0).</summary>
    public static async Task<IReadOnlyList<string>> ScanKeysAsync(IRedisClient redis, string pattern)
    {
        var keys = new List<string>();
        var cursor = "0";
        do
        {
            var reply = await redis.ExecuteAsync(new RedisCommand("SCAN", [cursor, "MATCH", pattern, "COUNT", 10_000]));
            cursor = reply[0].AsString()!;
            keys.AddRange(reply[1].Items.Select(k => k.AsString()!));
        }
        while (cursor != "0");

        return keys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Every entry of every dead-letter stream of the queue, with its partition.</summary>
    public static async Task<IReadOnlyList<(int Partition, StreamEntry Entry)>> DeadEntriesAsync(IRedisClient redis, QueueKeys keys)
    {
        var all = new List<(int, StreamEntry)>();
        for (var p = 0; p < keys.Partitions; p++)
        {
            all.AddRange((await redis.XRangeAsync(keys.Dead(p))).Select(e => (p, e)));
        }

        return all;
    }

    /// <summary>Entries pending in the group over all partitions (delivered, not acknowledged).</summary>
    public static async Task<long> PendingAsync(IRedisClient redis, QueueKeys keys, string group = "workers") =>
        (await Task.WhenAll(keys.Streams.Select(s => redis.XPendingSummaryAsync(s, group)))).Sum(p => p.Count);

    /// <summary>Messages waiting in the delayed sets (retries, held messages, delayed publishes) over all partitions.</summary>
    public static async Task<long> DelayedAsync(IRedisClient redis, QueueKeys keys)
    {
        long total = 0;
        for (var p = 0; p < keys.Partitions; p++)
        {
            total += await redis.ZCardAsync(keys.Delayed(p));
        }

        return total;
    }

    /// <summary>Messages parked (stopped, or of a paused type) over all partitions.</summary>
    public static async Task<long> ParkedAsync(IRedisClient redis, QueueKeys keys)
    {
        long total = 0;
        for (var p = 0; p < keys.Partitions; p++)
        {
            total += await redis.HLenAsync(keys.Parked(p));
        }

        return total;
    }

    /// <summary>Waits until nothing is pending, delayed or parked: the queue has settled.</summary>
    public static Task WaitForSettledAsync(IRedisClient redis, QueueKeys keys, TimeSpan within, bool allowParked = false) =>
        Eventually.GetAsync(
            async () => (Pending: await PendingAsync(redis, keys), Delayed: await DelayedAsync(redis, keys), Parked: allowParked ? 0 : await ParkedAsync(redis, keys)),
            s => s.Pending == 0 && s.Delayed == 0 && s.Parked == 0,
            within,
            "the queue to settle (nothing pending in the group, nothing delayed" + (allowParked ? ")" : ", nothing parked)"));

    /// <summary>The value of a field of a stream entry, or null.</summary>
    public static string? Field(this StreamEntry entry, string name) => entry.GetString(name);
}

/// <summary>Tests that load the machine (many messages, worker processes) or measure time run one at a time,
/// side by side with the light ones.</summary>
[CollectionDefinition(Name)]
public sealed class HeavyTests
{
    public const string Name = "Millrace failure handling: heavy";
}
