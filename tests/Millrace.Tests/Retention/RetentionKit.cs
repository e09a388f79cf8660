using Millrace.Redis;
using Millrace.Tests.Support;

namespace Millrace.Tests.Retention;

/// <summary>
/// A started host with one declared queue, and raw stream helpers: the retention tests drive groups
/// with XREADGROUP/XACK themselves, so they know exactly what each group has acknowledged.
/// </summary>
internal sealed class RetentionKit : IAsyncDisposable
{
    private RetentionKit(TestHost host, string queue)
    {
        Host = host;
        Queue = queue;
        Keys = host.Services.GetRequiredService<MillraceRuntime>().Keys(queue);
    }

    public TestHost Host { get; }

    public string Queue { get; }

    public QueueKeys Keys { get; }

    public IRedisClient Redis => Host.Redis;

    public MillraceAdmin Admin => Host.Services.GetRequiredService<MillraceAdmin>();

    public string Stream => Keys.Stream(0);

    /// <summary>The level-0 stream of partition 0 of another queue of the same host.</summary>
    public string StreamOf(string queue) => Host.Services.GetRequiredService<MillraceRuntime>().Keys(queue).Stream(0);

    public static async Task<RetentionKit> StartAsync(
        string queue = "orders", Action<QueueOptions>? configureQueue = null, Action<RetentionOptions>? configureRetention = null, string[]? otherQueues = null,
        RedisOptions? redis = null)
    {
        var host = await TestHost.StartAsync(
            m =>
            {
                m.AddQueue(queue, configureQueue);
                m.Services.Configure<MillraceOptions>(o => configureRetention?.Invoke(o.Retention));
            },
            redis: redis);
        foreach (var q in (otherQueues ?? []).Prepend(queue))
        {
            await host.Services.GetRequiredService<MillraceRuntime>().DeclareAsync(q, CancellationToken.None);
        }

        return new RetentionKit(host, queue);
    }

    public Task<long> NowAsync() => Redis.ServerTimeMillisecondsAsync();

    /// <summary>Adds <paramref name="count"/> entries with ids at <paramref name="ms"/> (seq 0, 1, ...): entries that old, as Redis judges age.</summary>
    public async Task<IReadOnlyList<string>> AddAtAsync(long ms, int count, string? stream = null)
    {
        var commands = Enumerable.Range(0, count)
            .Select(i => StreamCommands.XAdd(stream ?? Stream, [new StreamField("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture))], $"{ms}-{i}"))
            .ToArray();
        var replies = await Redis.ExecuteBatchAsync(commands);
        return replies.Select(r => r.ThrowIfError().AsString()!).ToArray();
    }

    /// <summary>Adds <paramref name="count"/> entries with ids chosen by Redis (now).</summary>
    public async Task<IReadOnlyList<string>> AddNowAsync(int count, string? stream = null)
    {
        var commands = Enumerable.Range(0, count)
            .Select(i => StreamCommands.XAdd(stream ?? Stream, [new StreamField("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture))]))
            .ToArray();
        var replies = await Redis.ExecuteBatchAsync(commands);
        return replies.Select(r => r.ThrowIfError().AsString()!).ToArray();
    }

    public Task CreateGroupAsync(string group, string startId = "0", string? stream = null) =>
        Redis.XGroupCreateAsync(stream ?? Stream, group, startId);

    /// <summary>Reads up to <paramref name="count"/> new entries for a consumer of the group; returns their ids.</summary>
    public async Task<IReadOnlyList<string>> ReadAsync(string group, string consumer, int count, string? stream = null) =>
        (await Redis.XReadGroupAsync(stream ?? Stream, group, consumer, count: count)).Select(e => e.Id).ToArray();

    public Task<long> AckAsync(string group, IReadOnlyList<string> ids, string? stream = null) =>
        ids.Count == 0 ? Task.FromResult(0L) : Redis.XAckAsync(stream ?? Stream, group, ids);

    /// <summary>Reads everything new for the group and acknowledges it.</summary>
    public async Task ReadAndAckAllAsync(string group, string? stream = null)
    {
        while (true)
        {
            var ids = await ReadAsync(group, "c1", 1000, stream);
            if (ids.Count == 0)
            {
                return;
            }

            await AckAsync(group, ids, stream);
        }
    }

    public async Task<IReadOnlyList<string>> IdsAsync(string? stream = null) =>
        (await Redis.XRangeAsync(stream ?? Stream)).Select(e => e.Id).ToArray();

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
