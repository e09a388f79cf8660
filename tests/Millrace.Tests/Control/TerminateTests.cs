using System.Collections.Concurrent;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Failures;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Control;

/// <summary>
/// Terminating a queue: every key it had is gone (found by SCAN over the test's prefix), its running
/// consumers stop by themselves with QueueDeleted, and the name can be used again from scratch.
/// </summary>
public sealed class TerminateTests(ITestOutputHelper output)
{
    private const string Queue = "audit";

    [Fact]
    public async Task A_terminated_queue_leaves_no_key_behind_stops_its_consumers_and_can_be_created_again()
    {
        var handled = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var one = await StartAsync(handled);
        await using var two = await StartAsync(handled, one.Prefix);
        var admin = one.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(one.Prefix, Queue, 2);
        var redis = one.Redis;

        // Every kind of state a queue can have, on both partitions where it is per partition.
        var flowing = await one.Publisher.PublishBatchAsync(Enumerable.Range(0, 20).Select(i => Event("ok", partitionKey: $"k{i}")).ToArray());
        await one.Publisher.PublishAsync(Event("later", delay: TimeSpan.FromHours(1), partitionKey: "k1"));
        await one.Publisher.PublishAsync(Event("later", delay: TimeSpan.FromHours(1), partitionKey: "k2", dedupKey: "later-once"));
        await one.Publisher.PublishAsync(Event("once", dedupKey: "audit-once"));
        await admin.PauseTypeAsync(Queue, "audit.held");
        var stopped = Guid.NewGuid().ToString("N");
        await admin.StopMessageAsync(Queue, stopped);
        // Due after every worker has seen the stop and the paused type (they follow control changes within a second).
        await one.Publisher.PublishAsync(Event("stopped", delay: TimeSpan.FromSeconds(2), id: stopped));
        await one.Publisher.PublishAsync(Event("held", type: "audit.held", delay: TimeSpan.FromSeconds(2)));
        await one.Publisher.PublishAsync(Event("broken", type: "audit.broken"));   // its handler fails: dead letter and an open circuit
        await Eventually.GetAsync(async () => (Parked: await FailureKit.ParkedAsync(redis, keys), Dead: await admin.DeadLetterCountAsync(Queue), Handled: flowing.Count(r => handled.ContainsKey(r.MessageId))),
            s => s.Parked == 2 && s.Dead == 1 && s.Handled == flowing.Count, TimeSpan.FromSeconds(10), "2 messages parked, 1 dead letter, the 20 good ones handled");
        Assert.NotEmpty(await admin.CircuitBreakersAsync(Queue));
        var before = await FailureKit.ScanKeysAsync(redis, $"{one.Prefix}:*");
        output.WriteLine($"before terminate: {before.Count} keys: {string.Join(", ", before)}");

        await admin.TerminateAsync(Queue);

        var consumers = new[] { Assert.Single(one.Workers.Consumers), Assert.Single(two.Workers.Consumers) };
        var within = TimeSpan.FromSeconds(10);
        var all = Task.WhenAll(consumers.Select(c => c.Done));
        Assert.True(await Task.WhenAny(all, Task.Delay(within)) == all, $"Expected both consumers to stop by themselves within {within.TotalSeconds:0} s of TerminateAsync, but {consumers.Count(c => !c.Done.IsCompleted)} still run.");
        Assert.Equal([ConsumerStopReason.QueueDeleted, ConsumerStopReason.QueueDeleted], await all);

        // Namespace-wide keys (all-queue statistics, worker heartbeats) are not the queue's; a live worker may also
        // still add its last per-second counts for the queue, which expire with the statistics (2 h).
        var left = (await FailureKit.ScanKeysAsync(redis, $"{one.Prefix}:*"))
            .Where(k => !k.StartsWith($"{one.Prefix}:stats:", StringComparison.Ordinal) && k != $"{one.Prefix}:workers").ToList();
        Assert.True(left.Count == 0, $"Expected no key under {one.Prefix}: after TerminateAsync, but found {left.Count}: {string.Join(", ", left)}");

        // The name again, from scratch: a fresh consumer (another process) handles what is published now.
        var fresh = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var three = await StartAsync(fresh, one.Prefix);
        var again = await one.Publisher.PublishAsync(Event("again", partitionKey: "k1"));
        await Eventually.GetAsync(() => Task.FromResult(fresh.ContainsKey(again.MessageId)), h => h, TimeSpan.FromSeconds(10), "the message published after the terminate handled by a fresh consumer");
        Assert.False(handled.ContainsKey(again.MessageId), "Expected the stopped consumers not to handle anything after the terminate.");
        Assert.Empty((await admin.ControlStateAsync(Queue)).PausedTypes);
        Assert.Equal(0, await admin.DeadLetterCountAsync(Queue));
    }

    private static Task<TestHost> StartAsync(ConcurrentDictionary<string, int> handled, string? prefix = null) => TestHost.StartAsync(m =>
    {
        m.Services.Configure<MillraceOptions>(o =>
        {
            o.Retry = RetryPolicy.None;
            o.CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = 1, CoolDown = TimeSpan.FromMinutes(1) };
        });
        m.AddQueue(Queue, q => q.Partitions = 2).AddConsumer(Queue);
        foreach (var type in new[] { "audit.event", "audit.held" })
        {
            m.AddHandler(type, (context, _) =>
            {
                handled.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1);
                return Task.CompletedTask;
            });
        }

        m.AddHandler("audit.broken", (_, _) => throw new InvalidOperationException("the audit sink is broken"));
    }, prefix);

    private static OutgoingMessage Event(string text, string type = "audit.event", TimeSpan? delay = null, string? partitionKey = null, string? dedupKey = null, string? id = null) => new()
    {
        Queue = Queue,
        Type = type,
        Payload = System.Text.Encoding.UTF8.GetBytes(text),
        Delay = delay,
        PartitionKey = partitionKey,
        DedupKey = dedupKey,
        Id = id,
    };
}
