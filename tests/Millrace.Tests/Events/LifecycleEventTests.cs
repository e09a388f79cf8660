using System.Collections.Concurrent;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Failures;
using Millrace.Tests.Support;
using Millrace.Tests.Tasks;
using Xunit.Abstractions;

namespace Millrace.Tests.Events;

/// <summary>
/// The lifecycle event stream: each message's events in order (published, started, succeeded; failed,
/// retried, dead_lettered; stopped, requeued), followed live from another host, and capped.
/// </summary>
public sealed class LifecycleEventTests(ITestOutputHelper output)
{
    private const string Queue = "mail";
    private const string Type = "send";

    [Fact]
    public async Task Given_a_message_that_succeeds_when_reading_events_then_it_has_published_started_succeeded_in_order()
    {
        await using var publisher = await TestHost.StartAsync(m => m.Tracking());
        var admin = publisher.Admin();
        var published = await publisher.Publisher.PublishAsync(Send("hi"));
        await using var worker = await StartWorkerAsync(publisher.Prefix, earliest: true);
        await admin.WaitForStateAsync(published.MessageId, TaskState.Succeeded);

        var events = (await TaskKit.AllEventsAsync(admin)).Where(e => e.MessageId == published.MessageId).ToArray();

        Assert.Equal(["published", "started", "succeeded"], events.Select(e => e.Event));
        Assert.Equal([0, 1, 1], events.Select(e => e.Attempt));
        Assert.All(events, e => Assert.Equal((Queue, Type, (string?)null), (e.Queue, e.Type, e.Error)));
        AssertInOrder(events);
        Assert.Equal(events, (await admin.EventsAsync(null, 3)).ToArray());   // the latest 3, oldest first
    }

    [Fact]
    public async Task Given_a_message_that_fails_every_attempt_when_reading_events_then_it_has_failed_retried_and_dead_lettered_with_its_errors()
    {
        // Published before any consumer runs, so "published" is written before "started" (see the ordering test below).
        await using var publisher = await TestHost.StartAsync(m => m.Tracking());
        var admin = publisher.Admin();
        var published = await publisher.Publisher.PublishAsync(Send("bad"));
        await using var worker = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(100), Jitter = 0 });
            m.Tracking().AddConsumer(Queue, c => c.StartPosition = StartPosition.Earliest)
                .AddHandler(Type, (context, _) => throw new InvalidOperationException($"relay refused attempt {context.Message.Attempt}"));
        }, publisher.Prefix);

        await admin.WaitForStateAsync(published.MessageId, TaskState.Dead);
        var events = (await TaskKit.AllEventsAsync(admin)).Where(e => e.MessageId == published.MessageId).ToArray();

        Assert.Equal(["published", "started", "failed", "retried", "started", "failed", "dead_lettered"], events.Select(e => e.Event));
        Assert.Equal([0, 1, 1, 1, 2, 2, 2], events.Select(e => e.Attempt));
        Assert.Equal("InvalidOperationException: relay refused attempt 1", events[2].Error);
        Assert.Equal(events[2].Error, events[3].Error);
        Assert.Contains("relay refused attempt 2", events[5].Error, StringComparison.Ordinal);
        Assert.Contains("relay refused attempt 2", events[6].Error, StringComparison.Ordinal);
        Assert.All(events.Where(e => e.Event is "published" or "started"), e => Assert.Null(e.Error));
        AssertInOrder(events);
    }

    [Fact]
    public async Task Given_a_stopped_message_when_it_is_resumed_then_stopped_and_requeued_events_are_written()
    {
        await using var worker = await StartWorkerAsync();
        await using var operatorTool = await TestHost.StartAsync(m => m.Tracking(), worker.Prefix);
        var admin = operatorTool.Admin();
        var published = await operatorTool.Publisher.PublishAsync(Send("later", TimeSpan.FromSeconds(2)));
        await admin.StopMessageAsync(Queue, published.MessageId);
        await admin.WaitForStateAsync(published.MessageId, TaskState.Stopped);

        // Resumed while no consumer runs (a live one races the "requeued" write: see TaskStateTransitionTests).
        await worker.StopAsync();
        Assert.True(await admin.ResumeMessageAsync(Queue, published.MessageId));
        await using var again = await StartWorkerAsync(worker.Prefix);
        await admin.WaitForStateAsync(published.MessageId, TaskState.Succeeded);

        var events = (await TaskKit.AllEventsAsync(admin)).Where(e => e.MessageId == published.MessageId).ToArray();
        Assert.Equal(["published", "stopped", "requeued", "started", "succeeded"], events.Select(e => e.Event));
        AssertInOrder(events);
    }

    [Fact]
    public async Task Given_a_live_consumer_when_messages_are_published_one_by_one_then_each_messages_published_event_comes_before_its_started_event()
    {
        // The publisher writes "published" after the message is in its stream; a consumer may start it first.
        const int count = 300;
        await using var host = await StartWorkerAsync();
        var admin = host.Admin();
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add((await host.Publisher.PublishAsync(Send($"m{i}"))).MessageId);
        }

        await Eventually.GetAsync(async () => (await admin.TasksAsync(new TaskQuery { State = TaskState.Succeeded, Limit = 1000 })).Items.Count, n => n == count,
            TimeSpan.FromSeconds(20), $"all {count} messages succeeded");
        var events = await TaskKit.AllEventsAsync(admin);
        var wrong = ids.Where(id =>
        {
            var names = events.Where(e => e.MessageId == id).Select(e => e.Event).ToArray();
            return !names.SequenceEqual(["published", "started", "succeeded"]);
        }).ToArray();
        output.WriteLine($"{wrong.Length} of {count} messages had their events out of order");
        Assert.True(wrong.Length == 0,
            $"Expected each message's events to read published, started, succeeded, but {wrong.Length} of {count} did not; e.g. {wrong.FirstOrDefault()}: " +
            string.Join(", ", events.Where(e => e.MessageId == wrong.FirstOrDefault()).Select(e => e.Event)));
    }

    [Fact]
    public async Task Given_a_second_host_following_the_events_when_messages_are_handled_then_it_sees_each_event_as_it_happens()
    {
        await using var worker = await StartWorkerAsync();
        await using var observer = await TestHost.StartAsync(_ => { }, worker.Prefix);   // another process-like host: own connections, tracking off, no consumer
        var observerAdmin = observer.Admin();
        var seen = new ConcurrentQueue<LifecycleEvent>();
        using var stop = new CancellationTokenSource();
        var start = (await observerAdmin.EventsAsync(null, 1)).LastOrDefault()?.Id ?? "0-0";
        var following = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in observerAdmin.FollowEventsAsync(start, stop.Token))
                {
                    seen.Enqueue(e);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopped following.
            }
        });

        // One message at a time: the follower must see each one's success before the next is published.
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var id = (await worker.Publisher.PublishAsync(Send($"live {i}"))).MessageId;
            ids.Add(id);
            await Eventually.GetAsync(() => Task.FromResult(seen.Any(e => e.MessageId == id && e.Event == "succeeded")), s => s, TimeSpan.FromSeconds(10),
                $"the follower to see message {i} succeed");
        }

        await stop.CancelAsync();
        await following.WaitAsync(TimeSpan.FromSeconds(10));

        var followed = seen.ToArray();
        foreach (var id in ids)
        {
            // Their order per message is the subject of the ordering test above; here: all three, each once.
            Assert.Equal(["published", "started", "succeeded"], followed.Where(e => e.MessageId == id).Select(e => e.Event).Order(StringComparer.Ordinal));
        }

        var written = await TaskKit.AllEventsAsync(worker.Admin());
        Assert.Equal(written.Select(e => e.Id), followed.Select(e => e.Id));   // the same events, in stream order, none twice
        Assert.Equal(written, followed);
    }

    [Fact]
    public async Task Given_an_events_cap_of_100_when_1000_messages_are_handled_then_the_stream_stays_near_the_cap()
    {
        const int cap = 100;
        const int count = 1000;
        var handled = new Received();
        await using var host = await TestHost.StartAsync(m => m.Tracking(t => t.EventsMaxLength = cap).AddConsumer(Queue).AddHandler(Type, (context, _) =>
        {
            handled.Add(context);
            return Task.CompletedTask;
        }));
        var admin = host.Admin();
        foreach (var chunk in Enumerable.Range(0, count).Select(i => Send($"c{i}")).Chunk(100))
        {
            await host.Publisher.PublishBatchAsync(chunk);
        }

        await handled.WaitForAsync(count, TimeSpan.FromSeconds(30));
        await Eventually.GetAsync(async () => (await admin.TasksAsync(new TaskQuery { State = TaskState.Succeeded, Limit = 1000 })).Items.Count, n => n == count,
            TimeSpan.FromSeconds(10), $"all {count} records succeeded");

        // MAXLEN ~ trims whole stream nodes only: the length stays at or above the cap and below the cap plus one node.
        var nodeEntries = (await host.Redis.ExecuteAsync(new RedisCommand("CONFIG", ["GET", "stream-node-max-entries"]))).AsPairs().Single().Value.AsInt64();
        var length = (await host.Redis.ExecuteAsync(new RedisCommand("XLEN", [new TaskKeys(host.Prefix).Events]))).AsInt64();
        output.WriteLine($"{count * 3} events written with EventsMaxLength {cap}: XLEN {length} (stream-node-max-entries {nodeEntries})");
        Assert.True(length >= cap && length < cap + nodeEntries,
            $"Expected the event stream capped near {cap} (between {cap} and {cap + nodeEntries - 1}, as MAXLEN ~ trims whole nodes of {nodeEntries}), but XLEN is {length}.");
        var latest = await admin.EventsAsync(null, 10_000);
        Assert.Equal(length, latest.Count);
        Assert.Equal("succeeded", latest[^1].Event);
    }

    [Fact]
    public async Task Given_EventsMaxLength_0_when_messages_are_handled_then_records_are_kept_but_no_event_is_written()
    {
        await using var host = await TestHost.StartAsync(m => m.Tracking(t => t.EventsMaxLength = 0).AddConsumer(Queue).AddHandler(Type, (_, _) => Task.CompletedTask));
        var admin = host.Admin();

        var published = await host.Publisher.PublishAsync(Send("quiet"));

        await admin.WaitForStateAsync(published.MessageId, TaskState.Succeeded);
        Assert.Empty(await admin.EventsAsync(null, 100));
        Assert.Equal(0, (await host.Redis.ExecuteAsync(new RedisCommand("EXISTS", [new TaskKeys(host.Prefix).Events]))).AsInt64());
    }

    [Fact]
    public async Task Given_events_when_read_after_an_id_then_pages_continue_without_gaps_and_bad_arguments_fail_clearly()
    {
        await using var publisher = await TestHost.StartAsync(m => m.Tracking());
        var admin = publisher.Admin();
        var ids = (await publisher.Publisher.PublishBatchAsync(Enumerable.Range(0, 25).Select(i => Send($"p{i}")).ToArray())).Select(r => r.MessageId).ToArray();

        var pages = new List<IReadOnlyList<LifecycleEvent>>();
        var after = "0-0";
        for (var page = await admin.EventsAsync(after, 10); page.Count > 0; page = await admin.EventsAsync(after, 10))
        {
            pages.Add(page);
            after = page[^1].Id;
        }

        Assert.Equal([10, 10, 5], pages.Select(p => p.Count));
        var all = pages.SelectMany(p => p).ToArray();
        Assert.Equal(ids, all.Select(e => e.MessageId));
        Assert.All(all, e => Assert.Equal("published", e.Event));
        Assert.Equal(all[^5..], await admin.EventsAsync(null, 5));
        Assert.Equal(all[^5..], await admin.EventsAsync("$", 5));
        Assert.Empty(await admin.EventsAsync(all[^1].Id, 10));

        await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.EventsAsync("yesterday", 10));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.EventsAsync(null, 0));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.EventsAsync(null, 10_001));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
        {
            await foreach (var _ in admin.FollowEventsAsync("not-an-id"))
            {
            }
        });
    }

    [Fact]
    public async Task Given_an_event_id_with_a_bad_sequence_when_reading_or_following_events_then_it_fails_with_an_ArgumentException()
    {
        await using var host = await TestHost.StartAsync(m => m.Tracking());
        var admin = host.Admin();
        await host.Publisher.PublishAsync(Send("x"));

        // A good time and a bad sequence: rejected as bad input, not sent to Redis to fail there.
        var read = await Record.ExceptionAsync(() => admin.EventsAsync("1700000000000-x", 10));
        Assert.True(read is ArgumentException, $"Expected an ArgumentException for the event id '1700000000000-x', but got {read?.GetType().Name ?? "none"}: {read?.Message}");
        var follow = await Record.ExceptionAsync(async () =>
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await foreach (var _ in admin.FollowEventsAsync("1700000000000-", stop.Token))
            {
            }
        });
        Assert.True(follow is ArgumentException, $"Expected an ArgumentException for the event id '1700000000000-', but got {follow?.GetType().Name ?? "none"}: {follow?.Message}");
    }

    private static void AssertInOrder(IReadOnlyList<LifecycleEvent> events)
    {
        for (var i = 1; i < events.Count; i++)
        {
            Assert.True(events[i].At >= events[i - 1].At, $"Expected event times not to go back, but {events[i].Event} at {events[i].At:O} follows {events[i - 1].Event} at {events[i - 1].At:O}.");
        }
    }

    private static Task<TestHost> StartWorkerAsync(string? prefix = null, bool earliest = false) => TestHost.StartAsync(m =>
        m.Tracking().AddConsumer(Queue, c => c.StartPosition = earliest ? StartPosition.Earliest : StartPosition.Latest).AddHandler(Type, (context, _) =>
        {
            context.Result = "sent";
            return Task.CompletedTask;
        }), prefix);

    private static OutgoingMessage Send(string text, TimeSpan? delay = null) =>
        new() { Queue = Queue, Type = Type, Payload = System.Text.Encoding.UTF8.GetBytes(text), Delay = delay };
}
