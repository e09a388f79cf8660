using System.Diagnostics;
using System.Globalization;
using System.Text;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Failures;

/// <summary>
/// Worker processes whose handlers fail at random (reproducibly: the failure is a hash of message id and
/// attempt) are SIGKILLed while retries are being scheduled. Every message must end handled or in the
/// dead-letter queue, and exactly the ones whose every attempt fails must be dead-lettered.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class CrashDuringRetriesTests(ITestOutputHelper output)
{
    private const string Queue = "chaos";
    private const int Total = 3_000;
    private const int Kills = 4;
    private static readonly FailureInjection Injection = new(FailRate: 0.3, MaxAttempts: 3, RetryDelay: TimeSpan.FromMilliseconds(200), BreakerThreshold: 0);

    [Fact]
    public async Task Workers_killed_with_SIGKILL_while_retrying_leave_every_message_handled_or_dead_lettered()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        var record = TestKeys.Unique("record");
        var keys = new QueueKeys(prefix, Queue, 2);
        var settings = new WorkerSettings
        {
            Prefix = prefix, Queue = Queue, Record = record, Partitions = 2,
            Concurrency = 4, HandlerDelay = TimeSpan.FromMilliseconds(15), Visibility = TimeSpan.FromSeconds(2), Shutdown = TimeSpan.FromSeconds(5),
        };
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var random = new Random(4242);
        var workers = new List<WorkerProcess>();
        var log = new List<string>();
        var started = 0;
        try
        {
            workers.AddRange(await Task.WhenAll(Enumerable.Range(1, 3).Select(_ => FlakyWorkerProcess.StartAsync($"worker {Interlocked.Increment(ref started)}", settings, Injection))));
            var clock = Stopwatch.StartNew();
            var published = await PublishAsync(prefix, Total);

            var killsWhileRetrying = 0;
            for (var kill = 1; kill <= Kills; kill++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(700 + random.Next(600)));   // chaos schedule, not a synchronisation
                var live = workers.Where(w => !w.HasExited).ToArray();
                var victim = live[random.Next(live.Length)];
                var delayed = await FailureKit.DelayedAsync(redis, keys);
                var pending = await FailureKit.PendingAsync(redis, keys);
                victim.Kill();
                await victim.WaitForExitAsync(TimeSpan.FromSeconds(10));
                killsWhileRetrying += delayed > 0 ? 1 : 0;
                var handledSoFar = await redis.HLenAsync(record);
                log.Add($"{clock.Elapsed.TotalSeconds:0.0} s: SIGKILL {victim.Label} (pid {victim.Id}) with {delayed} retries scheduled, {pending} pending, {handledSoFar} handled so far");
                workers.Add(await FlakyWorkerProcess.StartAsync($"worker {Interlocked.Increment(ref started)}", settings, Injection));
            }

            // Settle: every message accounted for, then nothing pending (a killed worker's entries are reclaimed) and nothing delayed.
            try
            {
                await Eventually.GetAsync(async () => await redis.HLenAsync(record) + (await FailureKit.DeadEntriesAsync(redis, keys)).Count, n => n >= Total, TimeSpan.FromSeconds(60),
                    $"all {Total} messages handled or dead-lettered");
                await FailureKit.WaitForSettledAsync(redis, keys, TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException(e.Message + "\n" + string.Join("\n", log) + Describe(workers), e);
            }

            var handled = (await redis.HGetAllAsync(record)).ToDictionary(p => p.Key, p => long.Parse(p.Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);
            var dead = (await FailureKit.DeadEntriesAsync(redis, keys)).Select(d => d.Entry).ToArray();
            var deadIds = dead.Select(d => d.Field(EnvelopeFields.TaskId)!).ToArray();
            var deadSet = deadIds.ToHashSet(StringComparer.Ordinal);
            var lost = published.Where(id => !handled.ContainsKey(id) && !deadSet.Contains(id)).ToArray();
            var both = published.Where(id => handled.ContainsKey(id) && deadSet.Contains(id)).ToArray();
            var duplicates = handled.Count(h => h.Value > 1);
            var deadTwice = deadIds.GroupBy(id => id, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
            var doomed = published.Where(id => Enumerable.Range(1, Injection.MaxAttempts).All(a => FailureDiceCopy.Fails(id, a, Injection.FailRate))).ToHashSet(StringComparer.Ordinal);
            var wronglyDead = deadSet.Where(id => !doomed.Contains(id)).ToArray();
            var wronglyHandled = doomed.Where(handled.ContainsKey).ToArray();

            foreach (var line in log)
            {
                output.WriteLine(line);
            }

            output.WriteLine($"{Total} published in {clock.Elapsed.TotalSeconds:0.0} s with {Kills} SIGKILLs: {handled.Count} handled, {deadSet.Count} dead-lettered " +
                $"({doomed.Count} expected: every attempt fails), {duplicates} handled more than once, {lost.Length} lost");

            Assert.True(lost.Length == 0, $"Expected every message handled or dead-lettered, but {lost.Length} are neither (first: {string.Join(", ", lost.Take(5))}).{Describe(workers)}");
            Assert.True(doomed.Count > 0, "Expected some messages to fail every attempt (the test's premise: the dead-letter path is exercised).");
            Assert.True(killsWhileRetrying > 0, "Expected at least one kill while retries were scheduled (the test's premise); see the kill log in the output.");
            Assert.True(both.Length == 0, $"Expected no message both handled and dead-lettered (a message's fate is decided by its attempts), but {both.Length} are (first: {string.Join(", ", both.Take(5))}).");
            Assert.True(deadTwice.Length == 0, $"Expected each message at most once in the dead-letter queue, but {deadTwice.Length} are there twice or more (first: {string.Join(", ", deadTwice.Take(5))}).");
            Assert.True(wronglyDead.Length == 0 && wronglyHandled.Length == 0,
                $"Expected exactly the messages whose {Injection.MaxAttempts} attempts all fail to be dead-lettered, but {wronglyDead.Length} others were " +
                $"(first: {string.Join(", ", wronglyDead.Take(3))}: an attempt was counted without running, or skipped) and {wronglyHandled.Length} of them were handled " +
                $"(first: {string.Join(", ", wronglyHandled.Take(3))}: more attempts than allowed).");
            Assert.All(dead, d => Assert.True(d.Field(DeadLetterFields.Reason) == "failed" && d.Field(DeadLetterFields.Attempts) == "3",
                $"Expected every dead letter to say reason 'failed' after 3 attempts, but {d.Field(EnvelopeFields.TaskId)} says '{d.Field(DeadLetterFields.Reason)}' after {d.Field(DeadLetterFields.Attempts)}."));
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync();
            }

            await redis.DelAsync([.. keys.Streams, .. Enumerable.Range(0, keys.Partitions).SelectMany(keys.PartitionKeys), keys.Meta, keys.Breakers, QueueKeys.Registry(prefix), record]);
        }
    }

    /// <summary>Publishes <paramref name="count"/> "work" messages in batches of 500 from this test process.</summary>
    private static async Task<IReadOnlyList<string>> PublishAsync(string prefix, int count)
    {
        await using var publisher = await TestHost.StartAsync(m => m.AddQueue(Queue, q => q.Partitions = 2), prefix);
        var ids = new List<string>(count);
        for (var start = 0; start < count; start += 500)
        {
            var batch = Enumerable.Range(start, Math.Min(500, count - start))
                .Select(i => new OutgoingMessage { Queue = Queue, Type = "work", Payload = Encoding.ASCII.GetBytes(i.ToString(CultureInfo.InvariantCulture)) })
                .ToArray();
            ids.AddRange((await publisher.Publisher.PublishBatchAsync(batch)).Select(r => r.MessageId));
        }

        return ids;
    }

    private static string Describe(IEnumerable<WorkerProcess> workers) =>
        string.Concat(workers.Select(w => $"\n--- {w.Label} (pid {w.Id}, {(w.HasExited ? "exited" : "running")}):\n{Tail(w.Output)}"));

    private static string Tail(string text) => text.Length <= 3_000 ? text : "...\n" + text[^3_000..];
}
