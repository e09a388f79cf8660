using System.Text;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Consuming;

/// <summary>
/// Real worker processes (tests/Millrace.TestWorker) on one queue, killed with SIGKILL or stopped with
/// SIGTERM. Every handling is recorded by the worker with HINCRBY &lt;record&gt; &lt;message id&gt; 1, so a
/// message id missing from the record was lost and a count above 1 was handled more than once.
/// </summary>
public sealed class MultiProcessTests(ITestOutputHelper output)
{
    private const string Queue = "work";

    [Fact]
    public async Task A_hundred_thousand_messages_through_four_consumers_in_two_processes_are_all_handled()
    {
        const int total = 100_000;
        var run = new Run(partitions: 2);
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var workers = new List<WorkerProcess>();
        try
        {
            var settings = run.Worker() with { Consumers = 2, Concurrency = 2 };
            workers.AddRange(await StartAllAsync(("worker 1", settings with { Name = "p1" }), ("worker 2", settings with { Name = "p2" })));

            var published = await PublishAsync(run, total);
            await WaitForRecordAsync(redis, run.Record, total, TimeSpan.FromSeconds(60));

            var check = await CheckAsync(redis, run.Record, published, workers);
            output.WriteLine($"{total} published, {check.Recorded} recorded, {check.Lost.Count} lost, {check.Duplicates.Count} duplicated");
            Assert.True(check.Lost.Count == 0, $"Expected every one of the {total} messages handled, but {check.Lost.Count} were never handled (first: {string.Join(", ", check.Lost.Take(5))}).{check.Workers}");
            Assert.True(check.Duplicates.Count == 0,
                $"Expected no message handled twice (no process died, nothing was stopped, and with the default 30 s visibility timeout no lease can lapse), " +
                $"but {check.Duplicates.Count} were (first: {Show(check.Duplicates)}).{check.Workers}");
            Assert.True(check.Unknown.Count == 0, $"Expected only published ids in the record, but found {check.Unknown.Count} others (first: {string.Join(", ", check.Unknown.Take(5))}).");

            await WaitForNothingPendingAsync(redis, run, workers);
            foreach (var stream in run.Keys.Streams)
            {
                var names = (await redis.XInfoConsumersAsync(stream, "workers")).Select(c => c.Name).Order(StringComparer.Ordinal);
                Assert.Equal(["p1-1", "p1-2", "p2-1", "p2-2"], names);
            }
        }
        finally
        {
            await StopAllAsync(workers);
            await run.CleanUpAsync(redis);
        }
    }

    [Fact]
    public async Task A_worker_killed_with_SIGKILL_holding_messages_has_them_reclaimed_by_another()
    {
        var run = new Run();
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var workers = new List<WorkerProcess>();
        try
        {
            // A's handlers take far longer than the test: it holds every message and finishes none.
            var settings = run.Worker() with { Visibility = TimeSpan.FromSeconds(2), Concurrency = 10 };
            var a = await WorkerProcess.StartAsync("worker A", settings with { Name = "a", HandlerDelay = TimeSpan.FromMinutes(5) });
            workers.Add(a);

            var published = await PublishAsync(run, 10);
            await Eventually.GetAsync(() => redis.XPendingSummaryAsync(run.Keys.Stream(0), "workers"), p => p.Consumers.GetValueOrDefault("a") == 10,
                TimeSpan.FromSeconds(15), "worker A to hold all 10 messages (XPENDING: 10 for consumer a)");
            Assert.True(await redis.HLenAsync(run.Record) == 0, $"Expected worker A to have finished no handler before the kill (its handlers wait 5 minutes).\n{a.Output}");

            a.Kill();
            await a.WaitForExitAsync(TimeSpan.FromSeconds(10));
            Assert.False(a.Stopped.IsCompletedSuccessfully, $"Expected a SIGKILLed worker to get no chance to stop gracefully, but it printed STOPPED.\n{a.Output}");
            Assert.Equal(10, (await redis.XPendingSummaryAsync(run.Keys.Stream(0), "workers")).Consumers.GetValueOrDefault("a"));

            workers.Add(await WorkerProcess.StartAsync("worker B", settings with { Name = "b" }));
            await WaitForRecordAsync(redis, run.Record, 10, TimeSpan.FromSeconds(20));

            var check = await CheckAsync(redis, run.Record, published, workers);
            output.WriteLine($"10 published, {check.Recorded} recorded, {check.Lost.Count} lost, {check.Duplicates.Count} duplicated");
            Assert.True(check.Lost.Count == 0, $"Expected worker B to reclaim and handle all 10 messages worker A held when it was killed, but {check.Lost.Count} were never handled: {string.Join(", ", check.Lost)}.{check.Workers}");
            Assert.True(check.Duplicates.Count == 0, $"Expected each message handled exactly once (worker A finished none before it was killed), but: {Show(check.Duplicates)}.{check.Workers}");
            await WaitForNothingPendingAsync(redis, run, workers);
        }
        finally
        {
            await StopAllAsync(workers);
            await run.CleanUpAsync(redis);
        }
    }

    [Fact]
    public async Task A_handler_running_longer_than_the_visibility_timeout_is_not_taken_from_its_live_consumer()
    {
        var run = new Run();
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var workers = new List<WorkerProcess>();
        try
        {
            var settings = run.Worker() with { Visibility = TimeSpan.FromSeconds(1) };
            var a = await WorkerProcess.StartAsync("worker A", settings with { Name = "a", Concurrency = 5, HandlerDelay = TimeSpan.FromSeconds(4) });
            workers.Add(a);
            var published = await PublishAsync(run, 5);
            await Eventually.GetAsync(() => redis.XPendingSummaryAsync(run.Keys.Stream(0), "workers"), p => p.Consumers.GetValueOrDefault("a") == 5,
                TimeSpan.FromSeconds(15), "worker A to hold all 5 messages (XPENDING: 5 for consumer a)");

            // B looks for entries idle longer than 1 s every half second, while A's handlers run 4 s.
            var b = await WorkerProcess.StartAsync("worker B", settings with { Name = "b" });
            workers.Add(b);
            await WaitForRecordAsync(redis, run.Record, 5, TimeSpan.FromSeconds(20));
            await WaitForNothingPendingAsync(redis, run, workers);

            // Had B taken any, A would still be running its copy: a graceful stop lets every running handler finish and record.
            a.Terminate();
            await a.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.True(a.ExitCode == 0, $"Expected worker A to exit with 0 after SIGTERM, got {a.ExitCode}.\n{a.Output}");

            var check = await CheckAsync(redis, run.Record, published, workers);
            output.WriteLine($"5 published, {check.Recorded} recorded, {check.Lost.Count} lost, {check.Duplicates.Count} duplicated");
            Assert.True(check.Lost.Count == 0, $"Expected all 5 messages handled, but {check.Lost.Count} were not: {string.Join(", ", check.Lost)}.{check.Workers}");
            Assert.True(check.Duplicates.Count == 0,
                "Expected each message handled exactly once: worker A renews the leases of running handlers every third of the visibility timeout, " +
                $"so worker B must never reclaim them, but some ran twice: {Show(check.Duplicates)}.{check.Workers}");
            var pending = await redis.XPendingSummaryAsync(run.Keys.Stream(0), "workers");
            Assert.True(pending.Count == 0, $"Expected nothing pending at the end, but {pending.Count} entries are ({string.Join(", ", pending.Consumers)}).");
        }
        finally
        {
            await StopAllAsync(workers);
            await run.CleanUpAsync(redis);
        }
    }

    [Fact]
    public async Task SIGTERM_during_load_loses_nothing()
    {
        const int total = 3_000;
        var run = new Run();
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var workers = new List<WorkerProcess>();
        try
        {
            var settings = run.Worker() with
            {
                Concurrency = 8,
                HandlerDelay = TimeSpan.FromMilliseconds(20),
                Shutdown = TimeSpan.FromSeconds(10),
                Visibility = TimeSpan.FromSeconds(2),
            };
            var started = await StartAllAsync(("worker 1", settings with { Name = "d1" }), ("worker 2", settings with { Name = "d2" }));
            workers.AddRange(started);
            var (stopping, staying) = (started[0], started[1]);

            var published = await PublishAsync(run, total);
            await Eventually.GetAsync(() => redis.HLenAsync(run.Record), n => n >= 300, TimeSpan.FromSeconds(30), "some hundreds of messages handled");

            stopping.Terminate();
            await stopping.WaitForExitAsync(TimeSpan.FromSeconds(30));
            var reason = stopping.Stopped.IsCompletedSuccessfully ? await stopping.Stopped : "(no STOPPED line)";
            Assert.True(stopping.ExitCode == 0 && reason == "Requested",
                $"Expected worker 1 to stop gracefully on SIGTERM (exit code 0, STOPPED Requested), got exit code {stopping.ExitCode} and {reason}.\n{stopping.Output}");

            await WaitForRecordAsync(redis, run.Record, total, TimeSpan.FromSeconds(40));
            var check = await CheckAsync(redis, run.Record, published, workers);
            output.WriteLine($"{total} published, {check.Recorded} recorded, {check.Lost.Count} lost, {check.Duplicates.Count} duplicated");
            Assert.True(check.Lost.Count == 0,
                $"Expected all {total} messages handled (worker 2 reclaims what worker 1 left pending after the visibility timeout), but {check.Lost.Count} were not (first: {string.Join(", ", check.Lost.Take(5))}).{check.Workers}");
            Assert.True(check.Duplicates.Count == 0,
                "Expected no duplicates: a duplicate can happen only if a handler finished but its ack was not sent before its process exited, " +
                $"and a graceful stop sends every ack before it exits; yet {check.Duplicates.Count} ran twice (first: {Show(check.Duplicates)}).{check.Workers}");
            Assert.False(staying.HasExited, $"Expected worker 2 to keep running.\n{staying.Output}");
            await WaitForNothingPendingAsync(redis, run, workers);
        }
        finally
        {
            await StopAllAsync(workers);
            await run.CleanUpAsync(redis);
        }
    }

    [Fact]
    public async Task Deleting_the_queue_stops_its_consumers_by_themselves()
    {
        var received = new Received();
        await using var host = await TestHost.StartAsync(m => m
            .AddQueue(Queue, q => q.Partitions = 2)
            .AddConsumer(Queue)
            .AddHandler("work", (context, _) =>
            {
                received.Add(context);
                return Task.CompletedTask;
            }));
        var keys = new QueueKeys(host.Prefix, Queue, 2);
        await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = "work", Payload = "x"u8.ToArray() });
        await received.WaitForAsync(1);
        var consumer = Assert.Single(host.Workers.Consumers);

        await host.Redis.DelAsync(keys.Streams.ToArray());

        // A blocked XREADGROUP may notice only when its BLOCK (1 s) ends; the deadline is far beyond that.
        var within = TimeSpan.FromSeconds(15);
        var stopped = await Task.WhenAny(consumer.Done, Task.Delay(within));
        Assert.True(stopped == consumer.Done, $"Expected the consumer to stop by itself within {within.TotalSeconds:0} s of its streams being deleted, but it is still running.");
        Assert.Equal(ConsumerStopReason.QueueDeleted, await consumer.Done);
        await host.Redis.DelAsync([keys.Meta, QueueKeys.Registry(host.Prefix)]);
    }

    // ---- helpers

    /// <summary>One test's namespace: a unique key prefix and record key, and the queue layout.</summary>
    private sealed class Run(int partitions = 1)
    {
        public string Prefix { get; } = $"t{Guid.NewGuid():N}";

        public string Record { get; } = TestKeys.Unique("record");

        public int Partitions { get; } = partitions;

        public QueueKeys Keys => new(Prefix, Queue, Partitions);

        public WorkerSettings Worker() => new() { Prefix = Prefix, Queue = Queue, Record = Record, Partitions = Partitions };

        public async Task CleanUpAsync(IRedisClient redis) =>
            await redis.DelAsync([.. Keys.Streams, Keys.Meta, QueueKeys.Registry(Prefix), Record]);
    }

    private sealed record Check(long Recorded, IReadOnlyList<string> Lost, IReadOnlyDictionary<string, long> Duplicates, IReadOnlyList<string> Unknown, string Workers);

    /// <summary>Starts workers side by side; if one fails to start, the others are killed.</summary>
    private static async Task<WorkerProcess[]> StartAllAsync(params (string Label, WorkerSettings Settings)[] workers)
    {
        var starting = workers.Select(w => WorkerProcess.StartAsync(w.Label, w.Settings)).ToArray();
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

    private static async Task StopAllAsync(IEnumerable<WorkerProcess> workers)
    {
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();   // SIGKILL if still running
        }
    }

    /// <summary>Publishes <paramref name="count"/> "work" messages (16-byte payloads) in batches of 1,000 from this test process.</summary>
    private static async Task<IReadOnlyList<string>> PublishAsync(Run run, int count)
    {
        await using var publisher = await TestHost.StartAsync(m => m.AddQueue(Queue, q => q.Partitions = run.Partitions), run.Prefix);
        var ids = new List<string>(count);
        var payload = Encoding.ASCII.GetBytes("0123456789abcdef");
        for (var start = 0; start < count; start += 1_000)
        {
            var batch = Enumerable.Range(start, Math.Min(1_000, count - start))
                .Select(_ => new OutgoingMessage { Queue = Queue, Type = "work", Payload = payload })
                .ToArray();
            var results = await publisher.Publisher.PublishBatchAsync(batch);
            ids.AddRange(results.Select(r => r.MessageId));
        }

        return ids;
    }

    /// <summary>Waits until the record holds <paramref name="count"/> ids; on the deadline it returns, and the checks say what is missing.</summary>
    private static async Task WaitForRecordAsync(IRedisClient redis, string record, int count, TimeSpan within)
    {
        try
        {
            await Eventually.GetAsync(() => redis.HLenAsync(record), n => n >= count, within, $"{count} message ids in the record");
        }
        catch (TimeoutException)
        {
            // The checks that follow name the messages that are missing.
        }
    }

    private static async Task<Check> CheckAsync(IRedisClient redis, string record, IReadOnlyList<string> published, IReadOnlyList<WorkerProcess> workers)
    {
        var counts = (await redis.HGetAllAsync(record)).ToDictionary(p => p.Key, p => long.Parse(p.Value, System.Globalization.CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var publishedSet = published.ToHashSet(StringComparer.Ordinal);
        var lost = published.Where(id => !counts.ContainsKey(id)).ToArray();
        var duplicates = counts.Where(p => p.Value > 1).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var unknown = counts.Keys.Where(id => !publishedSet.Contains(id)).ToArray();
        var text = lost.Length == 0 && duplicates.Count == 0 && unknown.Length == 0 ? "" : Describe(workers);
        return new Check(counts.Count, lost, duplicates, unknown, text);
    }

    private static async Task WaitForNothingPendingAsync(IRedisClient redis, Run run, IReadOnlyList<WorkerProcess> workers)
    {
        try
        {
            await Eventually.GetAsync(
                async () => (await Task.WhenAll(run.Keys.Streams.Select(s => redis.XPendingSummaryAsync(s, "workers")))).Sum(p => p.Count),
                n => n == 0, TimeSpan.FromSeconds(15), "every handled message acknowledged (nothing pending in the group)");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + Describe(workers), e);
        }
    }

    private static string Show(IReadOnlyDictionary<string, long> duplicates) =>
        string.Join(", ", duplicates.Take(5).Select(p => $"{p.Key} x{p.Value}"));

    private static string Describe(IEnumerable<WorkerProcess> workers) =>
        string.Concat(workers.Select(w => $"\n--- {w.Label} (pid {w.Id}, {(w.HasExited ? $"exited {w.ExitCode}" : "running")}):\n{Tail(w.Output)}"));

    private static string Tail(string text) => text.Length <= 4_000 ? text : "...\n" + text[^4_000..];
}
