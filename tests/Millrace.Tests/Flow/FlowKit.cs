using System.Globalization;
using System.Text;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;

namespace Millrace.Tests.Flow;

/// <summary>
/// One flow-control run against real worker processes (tests/Millrace.TestWorker with <c>--probe-concurrency</c>):
/// a unique prefix and record key, and readers for what the workers' handlers recorded from inside:
/// the handlers of the probed type in flight per process, the largest total seen, and every start as
/// "server ms:total in flight:pid".
/// </summary>
internal sealed class FlowRun
{
    public const string Queue = "work";
    public const string Type = "work";

    /// <summary>Sums the in-flight fields and sets the max to that sum: the max measured from now on.</summary>
    private static readonly RedisScript ResetMaxScript = new("""
        local total = 0
        for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
        redis.call('SET', KEYS[2], total)
        return total
        """);

    public string Prefix { get; } = $"t{Guid.NewGuid():N}";

    public string Record { get; } = TestKeys.Unique("record");

    public string InFlightKey => $"{Record}:inflight";

    public string MaxKey => $"{Record}:max";

    public string StartsKey => $"{Record}:starts";

    public QueueKeys Keys => new(Prefix, Queue, 1);

    public FlowKeys Flow => new(Prefix);

    public WorkerSettings Worker(string name, TimeSpan handlerDelay, int concurrency = 20) => new()
    {
        Prefix = Prefix,
        Queue = Queue,
        Record = Record,
        Name = name,
        Concurrency = concurrency,
        HandlerDelay = handlerDelay,
    };

    /// <summary>The probe on the handler, and each worker fetching at most <paramref name="window"/> ahead, so a backlog spreads over the workers.</summary>
    public static IReadOnlyList<(string Flag, string Value)> ProbeFlags(TimeSpan? leaseTime = null, int window = 20) =>
    [
        ("probe-concurrency", Type),
        ("max-in-flight", window.ToString(CultureInfo.InvariantCulture)),
        .. leaseTime is { } lease ? new[] { ("flow-lease-ms", ((long)lease.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)) } : [],
    ];

    /// <summary>A host in this run's prefix with no consumers: the test's publisher and admin.</summary>
    public Task<TestHost> ControlHostAsync() => TestHost.StartAsync(m => m.AddQueue(Queue), Prefix);

    public static async Task<IReadOnlyList<string>> PublishAsync(TestHost host, int count, string type = Type)
    {
        var ids = new List<string>(count);
        var payload = Encoding.ASCII.GetBytes("flow");
        for (var start = 0; start < count; start += 1_000)
        {
            var batch = Enumerable.Range(start, Math.Min(1_000, count - start))
                .Select(_ => new OutgoingMessage { Queue = Queue, Type = type, Payload = payload })
                .ToArray();
            ids.AddRange((await host.Publisher.PublishBatchAsync(batch)).Select(r => r.MessageId));
        }

        return ids;
    }

    public async Task<long> MaxAsync(IRedisClient redis) =>
        (await redis.ExecuteAsync(new RedisCommand("GET", [MaxKey], 0))).AsNullableInt64() ?? 0;

    public async Task<long> ResetMaxAsync(IRedisClient redis) =>
        (await redis.ExecuteAsync(ResetMaxScript.Command([InFlightKey, MaxKey]))).AsInt64();

    public async Task<long> InFlightOfAsync(IRedisClient redis, int pid) =>
        long.TryParse(await redis.HGetAsync(InFlightKey, pid.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>Forgets a dead process's in-flight count (a SIGKILLed worker never decrements it).</summary>
    public Task ForgetAsync(IRedisClient redis, int pid) => redis.HDelAsync(InFlightKey, [pid.ToString(CultureInfo.InvariantCulture)]);

    public async Task<IReadOnlyList<Start>> StartsAsync(IRedisClient redis)
    {
        var reply = await redis.ExecuteAsync(new RedisCommand("LRANGE", [StartsKey, 0, -1], 0));
        return [.. reply.Items.Select(r =>
        {
            var parts = r.AsString()!.Split(':');
            return new Start(long.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
        })];
    }

    public async Task<IReadOnlyDictionary<string, string>> HandledAsync(IRedisClient redis) => await redis.HGetAllAsync(Record);

    /// <summary>The members of the type's semaphore (lease ids "consumer:entry id") with their expiry in server ms.</summary>
    public async Task<IReadOnlyList<(string Lease, long ExpiresMs)>> LeasesAsync(IRedisClient redis)
    {
        var reply = await redis.ExecuteAsync(new RedisCommand("ZRANGE", [Flow.Semaphore(Type), 0, -1, "WITHSCORES"], 0));
        return [.. reply.Items.Chunk(2).Select(p => (p[0].AsString()!, (long)double.Parse(p[1].AsString()!, CultureInfo.InvariantCulture)))];
    }

    public async Task CleanUpAsync(IRedisClient redis)
    {
        await FlowKit.DeleteKeysAsync(redis, Prefix);
        await redis.DelAsync([Record, InFlightKey, MaxKey, StartsKey]);
    }

    /// <summary>A handler start as the probe recorded it.</summary>
    public sealed record Start(long Ms, int InFlight, int Pid);
}

internal static class FlowKit
{
    /// <summary>Redis's clock in ms (the flow scripts and the probe time everything by it).</summary>
    public static async Task<long> ServerMsAsync(IRedisClient redis)
    {
        var time = await redis.ExecuteAsync(new RedisCommand("TIME", []));
        return (long.Parse(time[0].AsString()!, CultureInfo.InvariantCulture) * 1000) + (long.Parse(time[1].AsString()!, CultureInfo.InvariantCulture) / 1000);
    }

    /// <summary>Deletes every key of a test prefix: <c>prefix*</c> and the flow keys <c>{prefix:flow}*</c> (namespaces included).</summary>
    public static async Task DeleteKeysAsync(IRedisClient redis, string prefix)
    {
        foreach (var pattern in new[] { $"{prefix}*", $"\\{{{prefix}*" })
        {
            var cursor = "0";
            do
            {
                var reply = await redis.ExecuteAsync(new RedisCommand("SCAN", [cursor, "MATCH", pattern, "COUNT", 1000]));
                cursor = reply[0].AsString()!;
                var keys = reply[1].Items.Select(k => k.AsString()!).ToArray();
                if (keys.Length > 0)
                {
                    await redis.DelAsync(keys);
                }
            }
            while (cursor != "0");
        }
    }

    public static async Task StopAllAsync(IEnumerable<WorkerProcess> workers)
    {
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();   // SIGKILL if still running
        }
    }

    /// <summary>Starts workers side by side; if one fails to start, the others are killed.</summary>
    public static async Task<WorkerProcess[]> StartAllAsync(IReadOnlyList<(string Flag, string Value)> flags, params (string Label, WorkerSettings Settings)[] workers)
    {
        var starting = workers.Select(w => WorkerProcess.StartAsync(w.Label, w.Settings, flags)).ToArray();
        try
        {
            return await Task.WhenAll(starting);
        }
        catch
        {
            await StopAllAsync(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            throw;
        }
    }

    public static string Outputs(IEnumerable<WorkerProcess> workers) =>
        string.Concat(workers.Select(w => $"\n--- {w.Label} (pid {w.Id}) ---\n{w.Output}"));
}
