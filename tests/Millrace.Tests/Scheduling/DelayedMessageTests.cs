using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Scheduling;

/// <summary>
/// Delayed messages (OutgoingMessage.Delay / DeliverAt) against a real Redis: they wait in the
/// partition's delayed set, are never handled before they are due, are promoted into the stream
/// exactly once however many schedulers race, and carry their due time to the handler.
/// </summary>
/// <remarks>
/// Clocks: the due time is stored as Unix milliseconds (PublishResult.DeliverAt keeps the caller's
/// precision; the message, and so <see cref="Message.DeliverAt"/>, carries it truncated to the
/// millisecond). Redis promotes a member when its own TIME, truncated to the millisecond, is at least
/// the due time, so promotion happens at a real time t with t ≥ due. Redis and this test run on one
/// machine and read the same system clock (CLOCK_REALTIME), so a handler's DateTimeOffset.UtcNow is
/// later still. Because the due time is a whole millisecond, "handler start ≥ Message.DeliverAt" at
/// full precision is the same statement as "handler start, truncated to the millisecond, ≥ due ms":
/// there is no rounding slack to allow for when comparing with <see cref="Message.DeliverAt"/>. (Against
/// the sub-millisecond time a Delay asks for, a message may start up to 1 ms early: see
/// <see cref="AtMillisecond"/>.)
/// </remarks>
public sealed class DelayedMessageTests(ITestOutputHelper output)
{
    private const string Queue = "later";
    private const string Type = "later.job";

    [Fact]
    public async Task A_delayed_message_is_not_handled_before_it_is_due_and_is_handled_after_with_its_DeliverAt()
    {
        var handled = new ConcurrentQueue<(MessageContext Context, DateTimeOffset StartedAt)>();
        await using var host = await TestHost.StartAsync(m => m
            .AddConsumer(Queue)
            .AddHandler(Type, (context, _) =>
            {
                handled.Enqueue((context, DateTimeOffset.UtcNow));
                return Task.CompletedTask;
            }));
        var keys = new QueueKeys(host.Prefix, Queue, 1);

        var publishedAt = DateTimeOffset.UtcNow;
        var result = await host.Publisher.PublishAsync(Job("in-500-ms", delay: TimeSpan.FromMilliseconds(500)));

        // Read the state, then the clock: if the clock still says "before due" after the reads, the reads were before due.
        var (delayed, streamed, seen) = (await host.Redis.ZCardAsync(keys.Delayed(0)), await host.Redis.XLenAsync(keys.Stream(0)), handled.Count);
        var checkedAt = DateTimeOffset.UtcNow;

        Assert.False(result.Duplicate);
        Assert.Null(result.StreamId);
        var due = Assert.NotNull(result.DeliverAt);
        // Due times are whole milliseconds (what Redis stores), so the reported one may be up to 1 ms below publish + delay.
        Assert.InRange(due - publishedAt, TimeSpan.FromMilliseconds(499), TimeSpan.FromMilliseconds(500) + (checkedAt - publishedAt));
        if (checkedAt < AtMillisecond(due))
        {
            Assert.Equal((1L, 0L, 0), (delayed, streamed, seen));
        }

        output.WriteLine($"before due ({(AtMillisecond(due) - checkedAt).TotalMilliseconds:F1} ms to go when checked): delayed set {delayed}, stream {streamed}, handled {seen}");

        await Eventually.GetAsync(() => Task.FromResult(handled.Count), n => n >= 1, TimeSpan.FromSeconds(10), "the delayed message to be handled");
        var (context, startedAt) = Assert.Single(handled);
        Assert.Equal(result.MessageId, context.Message.Id);
        Assert.Equal(AtMillisecond(due), context.Message.DeliverAt);
        Assert.True(startedAt >= context.Message.DeliverAt, $"handled at {startedAt:O}, before it was due at {context.Message.DeliverAt:O}");
        Assert.Equal(0, await host.Redis.ZCardAsync(keys.Delayed(0)));
        Assert.Equal(0, await host.Redis.HLenAsync(keys.DelayedBodies(0)));
        output.WriteLine($"Delay 500 ms: handled {(startedAt - context.Message.DeliverAt!.Value).TotalMilliseconds:F3} ms after due " +
            $"(entered the stream at {context.Message.EnqueuedAt:HH:mm:ss.fff}, due {context.Message.DeliverAt:HH:mm:ss.fff})");
    }

    [Fact]
    public async Task A_message_with_an_absolute_DeliverAt_is_handled_from_that_time_and_sees_it()
    {
        var handled = new ConcurrentQueue<(MessageContext Context, DateTimeOffset StartedAt)>();
        await using var host = await TestHost.StartAsync(m => m
            .AddConsumer(Queue)
            .AddHandler(Type, (context, _) =>
            {
                handled.Enqueue((context, DateTimeOffset.UtcNow));
                return Task.CompletedTask;
            }));

        // A whole millisecond, so the time asked for, the one reported and the one delivered are all equal.
        var due = AtMillisecond(DateTimeOffset.UtcNow.AddMilliseconds(700));
        var result = await host.Publisher.PublishAsync(Queue, new { Note = "absolute" }, new PublishOptions { Type = Type, DeliverAt = due });
        Assert.Equal(due, result.DeliverAt);
        Assert.Null(result.StreamId);

        await Eventually.GetAsync(() => Task.FromResult(handled.Count), n => n >= 1, TimeSpan.FromSeconds(10), "the scheduled message to be handled");
        var (context, startedAt) = Assert.Single(handled);
        Assert.Equal(result.MessageId, context.Message.Id);
        Assert.Equal(due, context.Message.DeliverAt);
        Assert.Equal("{\"note\":\"absolute\"}", context.Message.PayloadText);
        Assert.True(startedAt >= due, $"handled at {startedAt:O}, before it was due at {due:O}");
        Assert.True(context.Message.EnqueuedAt >= due, $"entered the stream at {context.Message.EnqueuedAt:O}, before it was due at {due:O}");
        output.WriteLine($"DeliverAt {due:HH:mm:ss.fff}: handled {(startedAt - due).TotalMilliseconds:F3} ms after due");
    }

    [Fact]
    public async Task A_plain_message_has_no_DeliverAt()
    {
        var handled = new ConcurrentQueue<MessageContext>();
        await using var host = await TestHost.StartAsync(m => m
            .AddConsumer(Queue)
            .AddHandler(Type, (context, _) =>
            {
                handled.Enqueue(context);
                return Task.CompletedTask;
            }));

        var result = await host.Publisher.PublishAsync(Job("now"));
        Assert.Null(result.DeliverAt);
        Assert.NotNull(result.StreamId);
        await Eventually.GetAsync(() => Task.FromResult(handled.Count), n => n >= 1, TimeSpan.FromSeconds(10), "the message to be handled");
        Assert.Null(Assert.Single(handled).Message.DeliverAt);
    }

    [Fact]
    public async Task A_delayed_message_with_a_dedup_key_is_scheduled_once_and_duplicates_get_the_first_id()
    {
        var handled = new ConcurrentQueue<MessageContext>();
        await using var host = await TestHost.StartAsync(m => m
            .AddQueue(Queue, q => q.Partitions = 3)
            .AddConsumer(Queue)
            .AddHandler(Type, (context, _) =>
            {
                handled.Enqueue(context);
                return Task.CompletedTask;
            }));
        var keys = new QueueKeys(host.Prefix, Queue, 3);

        var first = await host.Publisher.PublishAsync(Job("first", dedupKey: "invoice-42", delay: TimeSpan.FromMilliseconds(300)));
        var second = await host.Publisher.PublishAsync(Job("second", dedupKey: "invoice-42", delay: TimeSpan.FromMilliseconds(300)));
        var third = await host.Publisher.PublishAsync(Job("third, not delayed", dedupKey: "invoice-42"));

        Assert.False(first.Duplicate);
        Assert.NotNull(first.DeliverAt);
        Assert.True(second.Duplicate);
        Assert.Equal(first.MessageId, second.MessageId);
        Assert.Null(second.StreamId);
        Assert.Null(second.DeliverAt);
        Assert.Equal(first.Partition, second.Partition);
        // The marker is shared with plain deduplicated publishes: an undelayed one with the key is a duplicate too.
        Assert.True(third.Duplicate);
        Assert.Equal(first.MessageId, third.MessageId);

        await Eventually.GetAsync(() => Task.FromResult(handled.Count), n => n >= 1, TimeSpan.FromSeconds(10), "the delayed message to be handled");
        var context = Assert.Single(handled);
        Assert.Equal(first.MessageId, context.Message.Id);
        Assert.Equal("first", context.Message.PayloadText);
        Assert.Equal(AtMillisecond(first.DeliverAt!.Value), context.Message.DeliverAt);

        // Nothing else can still arrive: one entry was ever written to any stream and nothing is left delayed.
        var lengths = await Task.WhenAll(keys.Streams.Select(s => host.Redis.XLenAsync(s)));
        Assert.Equal(1, lengths.Sum());
        for (var p = 0; p < keys.Partitions; p++)
        {
            Assert.Equal(0, await host.Redis.ZCardAsync(keys.Delayed(p)));
        }
    }

    [Fact]
    public async Task Three_schedulers_deliver_ten_thousand_delayed_messages_exactly_once_and_never_early()
    {
        const int Count = 10_000;
        const int PerSecond = 2_000;   // due times spread over 5 s, two per millisecond
        const int Partitions = 2;
        var prefix = $"t{Guid.NewGuid():N}";
        var handled = new ConcurrentQueue<(string Id, DateTimeOffset? DeliverAt, TimeSpan Lateness, string Scheduler)>();
        var hosts = new List<TestHost>();
        try
        {
            foreach (var name in new[] { "A", "B", "C" })
            {
                // Three processes' worth of Millrace on one key prefix: each consumer runs a promoter per partition.
                hosts.Add(await TestHost.StartAsync(m => m
                    .AddQueue(Queue, q => q.Partitions = Partitions)
                    .AddConsumer(Queue)
                    .AddHandler(Type, (context, _) =>
                    {
                        var startedAt = DateTimeOffset.UtcNow;
                        var deliverAt = context.Message.DeliverAt;
                        handled.Enqueue((context.Message.Id, deliverAt, startedAt - (deliverAt ?? DateTimeOffset.MaxValue), name));
                        return Task.CompletedTask;
                    }), prefix));
            }

            var keys = new QueueKeys(prefix, Queue, Partitions);
            var publisher = hosts[0].Publisher;
            var first = AtMillisecond(DateTimeOffset.UtcNow.AddSeconds(1));
            var due = new Dictionary<string, DateTimeOffset>(Count);
            var clock = Stopwatch.StartNew();
            for (var start = 0; start < Count; start += 500)
            {
                var batch = Enumerable.Range(start, 500)
                    .Select(i => Job(i.ToString(CultureInfo.InvariantCulture), deliverAt: first.AddMilliseconds(i * 1000 / PerSecond)))
                    .ToArray();
                var results = await publisher.PublishBatchAsync(batch);
                for (var i = 0; i < batch.Length; i++)
                {
                    Assert.Equal(batch[i].DeliverAt, results[i].DeliverAt);
                    due.Add(results[i].MessageId, batch[i].DeliverAt!.Value);
                }
            }

            output.WriteLine($"scheduled {Count:N0} messages due from {first:HH:mm:ss.fff} over {Count / PerSecond} s in {clock.ElapsedMilliseconds} ms " +
                $"(the last publish finished {(first - DateTimeOffset.UtcNow).TotalMilliseconds:F0} ms before the first message was due; negative: after)");

            await Eventually.GetAsync(() => Task.FromResult(handled.Count), n => n >= Count, TimeSpan.FromSeconds(60), $"{Count} delayed messages handled");

            // The promotions themselves: every message entered a stream exactly once, and none is left delayed.
            var promoted = new List<string>(Count);
            for (var p = 0; p < Partitions; p++)
            {
                var entries = await ReadAllAsync(hosts[0].Redis, keys.Stream(p));
                promoted.AddRange(entries.Select(e => e.GetString(EnvelopeFields.TaskId)!));
                Assert.Equal(0, await hosts[0].Redis.ZCardAsync(keys.Delayed(p)));
                Assert.Equal(0, await hosts[0].Redis.HLenAsync(keys.DelayedBodies(p)));
            }

            Assert.Equal(Count, promoted.Count);
            Assert.Equal(due.Keys.Order(StringComparer.Ordinal), promoted.Order(StringComparer.Ordinal));

            // The deliveries: each id handled once, with the due time it was published with, never before it.
            var records = handled.ToArray();
            var repeated = records.GroupBy(r => r.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key} x{g.Count()}").ToArray();
            Assert.True(repeated.Length == 0, $"handled more than once: {string.Join(", ", repeated.Take(10))}");
            Assert.Equal(Count, records.Length);
            Assert.All(records, r => Assert.Equal(due[r.Id], r.DeliverAt));
            var early = records.Where(r => r.Lateness < TimeSpan.Zero).ToArray();
            Assert.True(early.Length == 0,
                $"{early.Length} handled before due, e.g. {string.Join(", ", early.Take(5).Select(r => $"{r.Id} {r.Lateness.TotalMilliseconds:F3} ms"))}");

            var lateness = records.Select(r => r.Lateness.TotalMilliseconds).Order().ToArray();
            output.WriteLine($"lateness (handler start - Message.DeliverAt, {lateness.Length:N0} messages): p50 {Rank(lateness, 50):F3} ms, " +
                $"p90 {Rank(lateness, 90):F3} ms, p99 {Rank(lateness, 99):F3} ms, max {lateness[^1]:F3} ms, min {lateness[0]:F3} ms");
            output.WriteLine("handled per scheduler: " + string.Join(", ", records.GroupBy(r => r.Scheduler).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count():N0}")));
        }
        finally
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_promote_script_run_concurrently_from_many_connections_moves_each_due_member_exactly_once()
    {
        const int Due = 20_000;
        const int NotYetDue = 1_000;
        const int Callers = 6;
        const int PerCall = 100;   // small batches: many more script calls, so callers interleave
        const int Pipelined = 4;   // each caller keeps this many calls in flight
        var keys = new QueueKeys($"t{Guid.NewGuid():N}", Queue, 1);
        await using var setup = await RedisTopology.ConnectStandaloneAsync();

        // The delayed set and bodies as the publisher writes them: member = message id, score = due ms, body = packed fields.
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var members = Enumerable.Range(0, Due + NotYetDue).Select(i => $"m{i:D6}").ToArray();
        foreach (var chunk in members.Chunk(1_000))
        {
            var commands = new List<RedisCommand>
            {
                SortedSetCommands.ZAdd(keys.Delayed(0), chunk.Select(m => new SortedSetEntry(m, Index(m) < Due ? now - Due + Index(m) : now + 3_600_000)).ToArray()),
                HashCommands.HSet(keys.DelayedBodies(0), chunk.Select(m => new KeyValuePair<string, RedisArg>(m, FieldCodec.Encode(
                [
                    new StreamField(EnvelopeFields.TaskId, m),
                    new StreamField(EnvelopeFields.Type, Type),
                    new StreamField(EnvelopeFields.Payload, $"payload of {m}"),
                    new StreamField(EnvelopeFields.DeliverAt, "1"),
                ]))).ToArray()),
            };
            foreach (var reply in await setup.ExecuteBatchAsync(commands))
            {
                reply.ThrowIfError();
            }
        }

        var command = DelayScripts.Promote.Command([keys.Delayed(0), keys.DelayedBodies(0), keys.Stream(0)], [PerCall]);
        using var go = new ManualResetEventSlim();
        var callers = Enumerable.Range(0, Callers).Select(async _ =>
        {
            await using var redis = await RedisTopology.ConnectStandaloneAsync();
            await redis.ExecuteAsync(new RedisCommand("PING", []));
            await Task.Run(go.Wait);
            var (moved, calls) = (0L, 0);
            while (true)
            {
                var replies = await redis.ExecuteBatchAsync(Enumerable.Repeat(command, Pipelined).ToArray());
                calls += replies.Length;
                var round = replies.Sum(r => r.ThrowIfError()[0].AsInt64());
                moved += round;
                if (round == 0)
                {
                    return (Moved: moved, Calls: calls, Next: replies[^1][1].AsInt64());
                }
            }
        }).ToArray();
        go.Set();
        var results = await Task.WhenAll(callers);

        output.WriteLine($"{Callers} connections x {Pipelined} pipelined Promote({PerCall}) calls: moved per connection " +
            string.Join(", ", results.Select(r => $"{r.Moved:N0} in {r.Calls} calls")));
        Assert.Equal(Due, results.Sum(r => r.Moved));

        var entries = await ReadAllAsync(setup, keys.Stream(0));
        var ids = entries.Select(e => e.GetString(EnvelopeFields.TaskId)!).ToArray();
        var repeated = ids.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.True(repeated.Length == 0, $"{repeated.Length} members entered the stream more than once, e.g. {string.Join(", ", repeated.Take(5))}");
        Assert.Equal(members.Take(Due), ids.Order(StringComparer.Ordinal));
        Assert.All(entries, e => Assert.Equal($"payload of {e.GetString(EnvelopeFields.TaskId)}", e.GetString(EnvelopeFields.Payload)));

        // What was not due stayed, body and all, and every caller was told when the next one is due.
        Assert.Equal(NotYetDue, await setup.ZCardAsync(keys.Delayed(0)));
        Assert.Equal(NotYetDue, await setup.HLenAsync(keys.DelayedBodies(0)));
        Assert.All(results, r => Assert.Equal(now + 3_600_000, r.Next));

        await setup.ExecuteAsync(new RedisCommand("DEL", [keys.Stream(0), keys.Delayed(0), keys.DelayedBodies(0)], 0));

        static int Index(string member) => int.Parse(member.AsSpan(1), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The due time as stored and delivered: truncated to the millisecond (MessagePublisher writes
    /// ToUnixTimeMilliseconds). A Delay's PublishResult.DeliverAt keeps sub-millisecond digits, so the
    /// message can be handled up to 1 ms before that reported time, never before this one.
    /// </summary>
    private static DateTimeOffset AtMillisecond(DateTimeOffset time) => DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());

    /// <summary>
    /// A stream's entries, read 1,000 at a time. One XRANGE of 20,000 entries (about 2 MB) takes
    /// seconds in Millrace.Redis, since the read loop parses a partial reply again from its first byte
    /// on every socket read (quadratic in the reply size), and can hit the 5 s command timeout on a busy machine.
    /// </summary>
    private static async Task<List<StreamEntry>> ReadAllAsync(IRedisClient redis, string stream)
    {
        var all = new List<StreamEntry>();
        for (var start = "-"; ;)
        {
            var page = await redis.XRangeAsync(stream, start, "+", 1_000);
            all.AddRange(page);
            if (page.Count < 1_000)
            {
                return all;
            }

            start = "(" + page[^1].Id;
        }
    }

    private static double Rank(double[] sorted, double percentile) => sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length), 1, sorted.Length) - 1];

    private static OutgoingMessage Job(string payload, TimeSpan? delay = null, DateTimeOffset? deliverAt = null, string? dedupKey = null) => new()
    {
        Queue = Queue,
        Type = Type,
        Payload = System.Text.Encoding.UTF8.GetBytes(payload),
        Delay = delay,
        DeliverAt = deliverAt,
        DedupKey = dedupKey,
    };
}
