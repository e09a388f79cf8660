using Millrace.Redis.Tests.Support;
using Millrace.Tests.Flow;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Inspection;

/// <summary>
/// What MillraceAdmin reports about activity: the worker processes from their heartbeats (WorkersAsync)
/// and the per-minute counts shared by every process (StatsAsync, flushed once a second).
/// </summary>
public sealed class ActivityTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Given_a_running_worker_host_When_workers_are_listed_Then_it_appears_with_its_queues_heartbeat_and_counts_and_disappears_after_a_graceful_stop()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var observer = await TestHost.StartAsync(m => m.AddQueue("jobs"));   // no consumers: not a worker
        var admin = observer.Services.GetRequiredService<MillraceAdmin>();
        Assert.Empty(await admin.WorkersAsync());
        await using var worker = await TestHost.StartAsync(
            m =>
            {
                m.Services.Configure<MillraceOptions>(o => o.Retry = RetryPolicy.None);
                m.AddConsumer("jobs", c => c.Concurrency = 2).AddConsumer("mail")
                    .AddHandler("job", (_, _) => Task.CompletedTask)
                    .AddHandler("bad", (_, _) => throw new InvalidOperationException("fails on purpose"))
                    .AddHandler("block", (_, token) => gate.Task.WaitAsync(token));
            },
            observer.Prefix);
        try
        {
            var first = Assert.Single(await admin.WorkersAsync());
            output.WriteLine($"worker: {first}");
            Assert.Equal(Environment.MachineName, first.Host);
            Assert.Equal(Environment.ProcessId, first.ProcessId);
            Assert.Equal(["jobs", "mail"], first.Queues.Order(StringComparer.Ordinal));
            Assert.InRange(first.LastHeartbeat, DateTimeOffset.UtcNow.AddSeconds(-10), DateTimeOffset.UtcNow.AddSeconds(1));
            Assert.True(first.StartedAt <= first.LastHeartbeat, $"Expected StartedAt ({first.StartedAt:O}) no later than the heartbeat ({first.LastHeartbeat:O}).");
            Assert.Equal((0L, 0L, 0), (first.Processed, first.Failed, first.InFlight));

            await worker.Publisher.PublishBatchAsync([.. Enumerable.Range(0, 5).Select(_ => new OutgoingMessage { Queue = "jobs", Type = "job", Payload = "j"u8.ToArray() })]);
            await worker.Publisher.PublishAsync(new OutgoingMessage { Queue = "jobs", Type = "bad", Payload = "b"u8.ToArray() });
            await worker.Publisher.PublishAsync(new OutgoingMessage { Queue = "jobs", Type = "block", Payload = "x"u8.ToArray() });
            var later = await Eventually.GetAsync(async () => Assert.Single(await admin.WorkersAsync()), w => w.Processed == 5 && w.Failed == 1 && w.InFlight == 1,
                TimeSpan.FromSeconds(15), "the heartbeat to report 5 processed, 1 failed and 1 in flight");
            output.WriteLine($"later: {later}");
            Assert.Equal(first.Id, later.Id);
            Assert.Equal(first.StartedAt, later.StartedAt);
            Assert.True(later.LastHeartbeat > first.LastHeartbeat, "Expected the heartbeat to move on.");

            gate.SetResult();
            await worker.StopAsync();
            Assert.Empty(await admin.WorkersAsync());
        }
        finally
        {
            gate.TrySetResult();
            await worker.StopAsync();
            await observer.StopAsync();
            await FlowKit.DeleteKeysAsync(observer.Redis, observer.Prefix);
        }
    }

    [Fact]
    public async Task Given_traffic_with_failures_retries_and_dead_letters_When_stats_are_read_Then_each_count_moves_by_exactly_what_happened()
    {
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(100), Jitter = 0 });
            m.AddQueue("quiet")
                .AddConsumer("stats", c => c.Concurrency = 4)
                .AddHandler("ok", (_, _) => Task.CompletedTask)
                .AddHandler("bad", (_, _) => throw new InvalidOperationException("fails on purpose"));
        });
        try
        {
            var admin = host.Services.GetRequiredService<MillraceAdmin>();
            var before = Sum(await admin.StatsAsync("stats", 5));
            Assert.Equal(new Totals(0, 0, 0, 0, 0), before);

            await host.Publisher.PublishBatchAsync([.. Enumerable.Range(0, 10).Select(_ => new OutgoingMessage { Queue = "stats", Type = "ok", Payload = "o"u8.ToArray() })]);
            await host.Publisher.PublishBatchAsync([.. Enumerable.Range(0, 2).Select(_ => new OutgoingMessage { Queue = "stats", Type = "bad", Payload = "b"u8.ToArray() })]);

            // 10 succeed; the 2 bad ones fail twice each (one retry each), then go to the dead-letter queue.
            var expected = new Totals(Published: 12, Processed: 10, Failed: 4, Retried: 2, DeadLettered: 2);
            var totals = await Eventually.GetAsync(async () => Sum(await admin.StatsAsync("stats", 5)), t => t.DeadLettered >= 2 && t.Processed >= 10 && t.Published >= 12,
                TimeSpan.FromSeconds(20), $"the statistics to reach {expected}");
            await Task.Delay(TimeSpan.FromSeconds(1.5));   // one more flush: nothing beyond what happened may arrive
            totals = Sum(await admin.StatsAsync("stats", 5));
            output.WriteLine($"stats for 'stats': {totals}");
            Assert.Equal(expected, totals);
            Assert.Equal(expected, Sum(await admin.StatsAsync(null, 5)));   // the only queue with traffic under this prefix
            Assert.Equal(new Totals(0, 0, 0, 0, 0), Sum(await admin.StatsAsync("quiet", 5)));

            var buckets = await admin.StatsAsync("stats", 5);
            Assert.Equal(5, buckets.Count);
            Assert.All(buckets.Zip(buckets.Skip(1)), p => Assert.Equal(TimeSpan.FromMinutes(1), p.Second.Minute - p.First.Minute));
            Assert.InRange(buckets[^1].Minute, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
            Assert.Equal(0, buckets[^1].Minute.Second);

            await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => admin.StatsAsync("stats", 0));
            await Assert.ThrowsAnyAsync<ArgumentOutOfRangeException>(() => admin.StatsAsync("stats", 121));
            await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.StatsAsync("no such name", 5));
        }
        finally
        {
            await host.StopAsync();
            await FlowKit.DeleteKeysAsync(host.Redis, host.Prefix);
        }
    }

    [Fact]
    public async Task Given_a_process_that_only_publishes_When_its_host_stops_Then_its_last_counts_are_flushed()
    {
        await using var producer = await TestHost.StartAsync(m => m.AddQueue("flushed"));
        var admin = producer.Services.GetRequiredService<MillraceAdmin>();
        try
        {
            await producer.Publisher.PublishBatchAsync([.. Enumerable.Range(0, 7).Select(_ => new OutgoingMessage { Queue = "flushed", Type = "t", Payload = "f"u8.ToArray() })]);
            await producer.StopAsync();   // the final flush, whatever the 1 s timer did
            Assert.Equal(7, Sum(await admin.StatsAsync("flushed", 5)).Published);
        }
        finally
        {
            await FlowKit.DeleteKeysAsync(producer.Redis, producer.Prefix);
        }
    }

    private static Totals Sum(IReadOnlyList<StatsBucket> buckets) => new(
        buckets.Sum(b => b.Published), buckets.Sum(b => b.Processed), buckets.Sum(b => b.Failed), buckets.Sum(b => b.Retried), buckets.Sum(b => b.DeadLettered));

    private sealed record Totals(long Published, long Processed, long Failed, long Retried, long DeadLettered);
}
