using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Flow;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Inspection;

/// <summary>
/// MillraceAdmin.QueueInfoAsync and QueueNamesAsync against a real queue holding messages in every state:
/// delivered and unacknowledged (pending), delayed, dead-lettered, parked, and not yet read by a second group.
/// </summary>
public sealed class QueueInfoTests(ITestOutputHelper output)
{
    private const string Queue = "inspect";

    [Fact]
    public async Task Given_a_queue_with_messages_in_every_state_When_inspected_Then_QueueInfo_counts_each_and_lists_groups_and_consumers()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = RetryPolicy.None);
            m.AddQueue(Queue, q => q.Partitions = 2)
                .AddConsumer(Queue, c => (c.Concurrency, c.ConsumerName) = (8, "inspector"))
                .AddHandler("block", (_, token) => gate.Task.WaitAsync(token))
                .AddHandler("fail", (_, _) => throw new InvalidOperationException("fails on purpose"))
                .AddHandler("held", (_, _) => Task.CompletedTask);
        });
        try
        {
            var admin = host.Services.GetRequiredService<MillraceAdmin>();
            var keys = new QueueKeys(host.Prefix, Queue, 2);
            await admin.PauseTypeAsync(Queue, "held");
            foreach (var stream in keys.Streams)
            {
                // A second group that reads nothing: everything published is lag for it.
                await host.Redis.ExecuteAsync(new RedisCommand("XGROUP", ["CREATE", stream, "audit", "0", "MKSTREAM"], 1));
            }

            await Publish("block", 3);
            await Publish("fail", 1);
            await Publish("held", 2);
            await Publish("later", 4, TimeSpan.FromHours(1));

            var info = await Eventually.GetAsync(() => admin.QueueInfoAsync(Queue), i => i is { DeadLetters: 1, Parked: 2 } && i.Groups.Any(g => g.Name == "workers" && g.Pending == 3),
                TimeSpan.FromSeconds(15), "3 pending (blocked handlers), 1 dead letter, 2 parked");
            output.WriteLine(Describe(info!));
            Assert.Equal(Queue, info!.Name);
            Assert.Equal(2, info.Partitions);
            Assert.Equal(6, info.Length);   // 3 block + 1 fail + 2 held; the delayed ones wait outside the streams
            Assert.Equal(4, info.Delayed);
            Assert.False(info.Paused);
            Assert.Equal(["held"], info.PausedTypes);
            Assert.NotNull(info.CreatedAt);
            Assert.InRange(info.CreatedAt!.Value, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(5));

            Assert.Equal(["audit", "workers"], info.Groups.Select(g => g.Name));
            var audit = info.Groups[0];
            var workers = info.Groups[1];
            Assert.Equal((0L, 6L), (audit.Pending, audit.Lag ?? -1));
            Assert.Empty(audit.Consumers);
            Assert.Equal((3L, 0L), (workers.Pending, workers.Lag ?? -1));
            var consumer = Assert.Single(workers.Consumers);
            Assert.Equal(("inspector", 3L), (consumer.Name, consumer.Pending));
            Assert.InRange(consumer.Idle, TimeSpan.Zero, TimeSpan.FromMinutes(1));

            // The oldest pending entry ages while its handler is blocked.
            var aged = await Eventually.GetAsync(() => admin.QueueInfoAsync(Queue), i => i!.OldestPendingAge >= TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), "the oldest pending age to reach 1 s");
            Assert.InRange(aged!.OldestPendingAge!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

            gate.SetResult();
            var settled = await Eventually.GetAsync(() => admin.QueueInfoAsync(Queue), i => i!.Groups.Single(g => g.Name == "workers").Pending == 0, TimeSpan.FromSeconds(10), "nothing pending once the handlers finish");
            Assert.Null(settled!.OldestPendingAge);
            Assert.Equal(["audit", "workers"], settled.Groups.Select(g => g.Name));
            Assert.Equal(6, settled.Groups.Single(g => g.Name == "audit").Lag);

            Assert.Null(await admin.QueueInfoAsync("unknown"));
            Assert.False(await admin.QueueExistsAsync("unknown"));
            Assert.True(await admin.QueueExistsAsync(Queue));
            Assert.Equal([Queue], await admin.QueueNamesAsync());
        }
        finally
        {
            gate.TrySetResult();
            await host.StopAsync();
            await FlowKit.DeleteKeysAsync(host.Redis, host.Prefix);
        }

        async Task Publish(string type, int count, TimeSpan? delay = null) =>
            await host.Publisher.PublishBatchAsync([.. Enumerable.Range(0, count).Select(i => new OutgoingMessage { Queue = Queue, Type = type, Payload = "p"u8.ToArray(), PartitionKey = $"{type}{i}", Delay = delay })]);
    }

    [Fact]
    public async Task Given_several_queues_When_listed_Then_QueueNamesAsync_gives_them_sorted_and_only_under_this_prefix()
    {
        await using var host = await TestHost.StartAsync(m => m.AddConsumer("zeta").AddConsumer("alpha").AddConsumer("mid"));
        await using var other = await TestHost.StartAsync(m => m.AddConsumer("elsewhere"));
        try
        {
            var admin = host.Services.GetRequiredService<MillraceAdmin>();
            Assert.Equal(["alpha", "mid", "zeta"], await admin.QueueNamesAsync());
            var info = await admin.QueueInfoAsync("mid");
            Assert.NotNull(info);
            Assert.Equal((0L, 0L, 0L, 0L), (info!.Length, info.Delayed, info.DeadLetters, info.Parked));
            Assert.Null(info.OldestPendingAge);
            Assert.Null(await admin.QueueInfoAsync("elsewhere"));
            await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.QueueInfoAsync("bad name"));
        }
        finally
        {
            await host.StopAsync();
            await other.StopAsync();
            await FlowKit.DeleteKeysAsync(host.Redis, host.Prefix);
            await FlowKit.DeleteKeysAsync(other.Redis, other.Prefix);
        }
    }

    [Fact]
    public async Task Given_a_queue_with_a_backlog_and_no_consumer_yet_When_inspected_Then_it_is_listed_with_its_length()
    {
        // A producer-only process: the queue's workers are not deployed yet (or all down), which is when its backlog matters most.
        await using var producer = await TestHost.StartAsync(_ => { });   // not even configured: a queue is named by publishing to it
        try
        {
            await producer.Publisher.PublishBatchAsync([.. Enumerable.Range(0, 5).Select(_ => new OutgoingMessage { Queue = "backlog", Type = "t", Payload = "b"u8.ToArray() })]);
            var admin = producer.Services.GetRequiredService<MillraceAdmin>();
            var names = await admin.QueueNamesAsync();
            var info = await admin.QueueInfoAsync("backlog");
            output.WriteLine($"QueueNamesAsync: [{string.Join(", ", names)}]; QueueInfoAsync: {(info is null ? "null" : Describe(info))}");
            Assert.True(names.Contains("backlog"), "Expected a queue with 5 messages published to it to be listed by QueueNamesAsync though no consumer has started yet, but it is not: only consumers declare queues.");
            Assert.NotNull(info);
            Assert.Equal(5, info!.Length);
        }
        finally
        {
            await producer.StopAsync();
            await FlowKit.DeleteKeysAsync(producer.Redis, producer.Prefix);
        }
    }

    private static string Describe(QueueInfo i) =>
        $"{i.Name}: partitions {i.Partitions}, length {i.Length}, delayed {i.Delayed}, dead {i.DeadLetters}, parked {i.Parked}, paused {i.Paused} [{string.Join(",", i.PausedTypes)}], " +
        $"oldest pending {i.OldestPendingAge?.TotalMilliseconds:0} ms, groups: " +
        string.Join("; ", i.Groups.Select(g => $"{g.Name} pending {g.Pending} lag {g.Lag?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} consumers [{string.Join(", ", g.Consumers.Select(c => $"{c.Name} {c.Pending} idle {c.Idle.TotalMilliseconds:0} ms"))}]"));
}
