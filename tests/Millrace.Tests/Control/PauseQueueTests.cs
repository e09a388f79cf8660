using System.Collections.Concurrent;
using System.Diagnostics;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Failures;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Control;

/// <summary>
/// Pausing a whole queue: every worker stops starting handlers within one second of PauseAsync
/// (running handlers finish), and resuming lets the messages flow again. Latencies are measured with
/// the handlers' own start times and printed.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class PauseQueueTests(ITestOutputHelper output)
{
    private const string Queue = "ticks";
    private static readonly TimeSpan Promise = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(250);

    /// <summary>How long after the pause the test watches for handlers starting: well past the promise.</summary>
    private static readonly TimeSpan Watch = TimeSpan.FromSeconds(2.5);

    [Fact]
    public async Task A_paused_queue_stops_every_worker_within_one_second_and_flows_again_when_resumed()
    {
        var starts = new Starts();
        var handled = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        Func<MessageContext, CancellationToken, Task> handler = async (context, token) =>
        {
            starts.Add(context.Consumer);
            await Task.Delay(20, token);
            handled.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1);
        };
        await using var one = await TestHost.StartAsync(m => m.AddConsumer(Queue, c => c.Concurrency = 4).AddHandler("tick", handler));
        await using var two = await TestHost.StartAsync(m => m.AddConsumer(Queue, c => c.Concurrency = 4).AddHandler("tick", handler), one.Prefix);
        var admin = one.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(one.Prefix, Queue, 1);

        // A steady stream: one message every 5 ms, from before the pause until after the watch.
        using var stopPublishing = new CancellationTokenSource();
        var published = new ConcurrentQueue<string>();
        var publishing = Task.Run(async () =>
        {
            while (!stopPublishing.IsCancellationRequested)
            {
                published.Enqueue((await one.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = "tick", Payload = "t"u8.ToArray() })).MessageId);
                await Task.Delay(5);
            }
        });
        var names = new[] { one.Workers.Consumers[0].Name, two.Workers.Consumers[0].Name };
        await Eventually.GetAsync(() => Task.FromResult(names.Min(starts.CountOf)), n => n >= 20, TimeSpan.FromSeconds(15), "both consumers handling the stream (20 handler starts each)");

        await admin.PauseAsync(Queue);
        var pausedAt = Stopwatch.GetTimestamp();
        await Task.Delay(Watch);   // the observation window, not a synchronisation
        var publishedWhilePaused = published.Count;
        await stopPublishing.CancelAsync();
        await publishing;

        var late = starts.After(pausedAt);
        var latency = late.Count == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(pausedAt, late.Max(s => s.At));
        output.WriteLine($"after PauseAsync returned: {late.Count} handler starts, the last {latency.TotalMilliseconds:0} ms after it (promise {Promise.TotalMilliseconds:0} ms + {Grace.TotalMilliseconds:0} ms grace); " +
            $"{publishedWhilePaused - handled.Count} of {publishedWhilePaused} published waiting");
        Assert.True(latency <= Promise + Grace,
            $"Expected no handler to start later than {Promise.TotalMilliseconds:0} ms (+{Grace.TotalMilliseconds:0} ms grace) after PauseAsync returned, but one started {latency.TotalMilliseconds:0} ms after " +
            $"(starts after the pause per consumer: {string.Join(", ", late.GroupBy(s => s.Consumer).Select(g => $"{g.Key} {g.Count()}"))}).");
        Assert.True((await admin.ControlStateAsync(Queue)).Paused, "Expected ControlStateAsync to say the queue is paused.");
        Assert.True(handled.Count < publishedWhilePaused, "Expected messages published during the pause to wait in the stream.");

        await admin.ResumeAsync(Queue);
        var resumedAt = Stopwatch.GetTimestamp();
        var ids = published.ToArray();
        await Eventually.GetAsync(() => Task.FromResult(ids.Count(handled.ContainsKey)), n => n == ids.Length, TimeSpan.FromSeconds(15), $"all {ids.Length} messages handled after the resume");
        await FailureKit.WaitForSettledAsync(one.Redis, keys, TimeSpan.FromSeconds(5));
        Assert.All(ids, id => Assert.Equal(1, handled[id]));
        Assert.True(names.All(n => starts.After(resumedAt).Any(s => s.Consumer == n)), "Expected both consumers to take part again after the resume.");
    }

    [Fact]
    public async Task Messages_already_read_but_not_started_do_not_start_while_the_queue_is_paused()
    {
        // One handler slot, room for 4 messages: 1 runs (1.5 s) while 3 wait in the worker's memory.
        var starts = new Starts();
        await using var host = await TestHost.StartAsync(m => m
            .AddConsumer(Queue, c => { c.Concurrency = 1; c.MaxInFlight = 4; })
            .AddHandler("slow", async (context, token) =>
            {
                starts.Add(context.Message.Id);
                await Task.Delay(1500, token);
            }));
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(host.Prefix, Queue, 1);
        await host.Publisher.PublishBatchAsync(Enumerable.Range(0, 4).Select(_ => new OutgoingMessage { Queue = Queue, Type = "slow", Payload = "s"u8.ToArray() }).ToArray());
        await Eventually.GetAsync(() => host.Redis.XPendingSummaryAsync(keys.Stream(0), "workers"), p => p.Count == 4 && starts.Count == 1, TimeSpan.FromSeconds(10),
            "all 4 messages read by the worker and the first one running");

        await admin.PauseAsync(Queue);
        var pausedAt = Stopwatch.GetTimestamp();
        await Task.Delay(Watch);   // the observation window, not a synchronisation

        var late = starts.After(pausedAt);
        var latency = late.Count == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(pausedAt, late.Max(s => s.At));
        output.WriteLine($"after PauseAsync returned: {late.Count} handler starts, the last {latency.TotalMilliseconds:0} ms after it");
        Assert.True(latency <= Promise + Grace,
            $"Expected no handler to start later than {Promise.TotalMilliseconds:0} ms (+{Grace.TotalMilliseconds:0} ms grace) after PauseAsync returned, " +
            $"but {late.Count} started, the last {latency.TotalMilliseconds:0} ms after: messages read before the pause and waiting for a free handler were still started.");

        await admin.ResumeAsync(Queue);
        await Eventually.GetAsync(() => host.Redis.XPendingSummaryAsync(keys.Stream(0), "workers"), p => p.Count == 0, TimeSpan.FromSeconds(15), "all 4 messages handled after the resume");
    }

    [Fact]
    public async Task A_paused_queue_does_not_run_messages_reclaimed_from_a_dead_consumer()
    {
        var starts = new Starts();
        await using var publisher = await TestHost.StartAsync(_ => { });
        var admin = publisher.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(publisher.Prefix, Queue, 1);

        // A consumer that read 5 messages and died: they sit in the group's pending list under its name.
        await publisher.Redis.XGroupCreateAsync(keys.Stream(0), "workers", "0");
        await publisher.Publisher.PublishBatchAsync(Enumerable.Range(0, 5).Select(_ => new OutgoingMessage { Queue = Queue, Type = "tick", Payload = "t"u8.ToArray() }).ToArray());
        Assert.Equal(5, (await publisher.Redis.XReadGroupAsync(keys.Stream(0), "workers", "dead-worker", count: 5)).Count);
        await admin.PauseAsync(Queue);

        await using var host = await TestHost.StartAsync(m => m
            .AddConsumer(Queue, c => { c.VisibilityTimeout = TimeSpan.FromMilliseconds(500); c.ReclaimInterval = TimeSpan.FromMilliseconds(200); })
            .AddHandler("tick", (context, _) =>
            {
                starts.Add(context.Message.Id);
                return Task.CompletedTask;
            }), publisher.Prefix);
        var startedAt = Stopwatch.GetTimestamp();
        await Task.Delay(Watch);   // the observation window (5 × the visibility timeout), not a synchronisation

        var pending = await publisher.Redis.XPendingSummaryAsync(keys.Stream(0), "workers");
        output.WriteLine($"while paused: {starts.Count} handler starts; pending per consumer: {string.Join(", ", pending.Consumers)}");
        if (starts.Count != 0)
        {
            Assert.Fail($"Expected no handler to run while the queue is paused, but {starts.Count} ran messages reclaimed from the dead consumer " +
                $"(the first {Stopwatch.GetElapsedTime(startedAt, starts.After(startedAt).DefaultIfEmpty((Consumer: "", At: startedAt)).Min(s => s.At)).TotalMilliseconds:0} ms after the worker started).");
        }

        await admin.ResumeAsync(Queue);
        await Eventually.GetAsync(() => Task.FromResult(starts.Count), n => n >= 5, TimeSpan.FromSeconds(10), "the 5 abandoned messages handled after the resume");
    }

    /// <summary>Handler starts: who, and when (Stopwatch timestamp).</summary>
    private sealed class Starts
    {
        private readonly ConcurrentQueue<(string Consumer, long At)> _all = new();

        public int Count => _all.Count;

        public void Add(string who) => _all.Enqueue((who, Stopwatch.GetTimestamp()));

        public int CountOf(string who) => _all.Count(s => s.Consumer == who);

        public IReadOnlyList<(string Consumer, long At)> After(long timestamp) => _all.Where(s => s.At > timestamp).ToArray();
    }
}
