using System.Collections.Concurrent;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;

namespace Millrace.Tests.Tasks;

/// <summary>What a task record keeps and for how long: cut payloads, its TTL, terminate, and nothing at all when tracking is off.</summary>
public sealed class TaskRecordTests
{
    private const string Queue = "files";
    private const string Type = "file";

    [Fact]
    public async Task Given_a_payload_longer_than_MaxPayloadBytes_when_published_then_the_record_keeps_its_start_and_says_it_was_cut()
    {
        await using var host = await TestHost.StartAsync(m => m.Tracking(t => t.MaxPayloadBytes = 100));
        var admin = host.Admin();
        var big = Enumerable.Range(0, 1000).Select(i => (byte)(i % 251)).ToArray();
        var exact = big[..100];

        var cut = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = big });
        var whole = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = exact });

        var cutRecord = await admin.TaskAsync(cut.MessageId);
        Assert.NotNull(cutRecord);
        Assert.True(cutRecord.PayloadTruncated, "Expected a 1000-byte payload with MaxPayloadBytes 100 to be marked PayloadTruncated.");
        Assert.Equal(big[..100], cutRecord.Payload.ToArray());

        var wholeRecord = await admin.TaskAsync(whole.MessageId);
        Assert.NotNull(wholeRecord);
        Assert.False(wholeRecord.PayloadTruncated, "Expected a payload of exactly MaxPayloadBytes not to be marked truncated.");
        Assert.Equal(exact, wholeRecord.Payload.ToArray());
    }

    [Fact]
    public async Task Given_a_cut_payload_when_the_consumer_handles_the_message_then_the_message_itself_is_whole_and_the_record_stays_cut()
    {
        var seen = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var host = await TestHost.StartAsync(m => m.Tracking(t => t.MaxPayloadBytes = 10).AddConsumer(Queue).AddHandler(Type, (context, _) =>
        {
            seen[context.Message.Id] = context.Message.Payload.Length;
            return Task.CompletedTask;
        }));
        var admin = host.Admin();

        var published = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = new byte[5000] });

        var done = await admin.WaitForStateAsync(published.MessageId, TaskState.Succeeded);
        Assert.Equal(5000, seen[published.MessageId]);
        Assert.True(done.PayloadTruncated);
        Assert.Equal(10, done.Payload.Length);
    }

    [Fact]
    public async Task Given_a_short_Ttl_when_nothing_changes_then_the_record_expires_and_listing_no_longer_returns_it()
    {
        await using var host = await TestHost.StartAsync(m => m.Tracking(t => t.Ttl = TimeSpan.FromSeconds(1)));
        var admin = host.Admin();

        var published = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "e"u8.ToArray() });
        Assert.NotNull(await admin.TaskAsync(published.MessageId));

        await Eventually.GetAsync(() => admin.TaskAsync(published.MessageId), r => r is null, TimeSpan.FromSeconds(10), "the record gone after its 1 s TTL");
        var page = await admin.TasksAsync(new TaskQuery { State = TaskState.Pending });
        Assert.Empty(page.Items);
        Assert.Empty((await admin.TasksAsync(new TaskQuery { Type = Type })).Items);
        var left = await TaskKit.TaskKeysAsync(host.Redis, host.Prefix);
        Assert.DoesNotContain(left, k => k.Contains(published.MessageId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Given_a_record_with_errors_when_it_changes_later_then_its_errors_live_as_long_as_the_record()
    {
        // Ttl 2 s; the first attempt fails at T (its error is written then), the retry succeeds at T + 1.5 s:
        // the record lives until about T + 3.5 s, and while it lives it should still show the error.
        var calls = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromSeconds(1.5), Jitter = 0 });
            m.Tracking(t => t.Ttl = TimeSpan.FromSeconds(2)).AddConsumer(Queue).AddHandler(Type, (context, _) =>
                calls.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1) == 1 ? throw new InvalidOperationException("first try fails") : Task.CompletedTask);
        });
        var admin = host.Admin();

        var published = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "e"u8.ToArray() });
        await admin.WaitForStateAsync(published.MessageId, TaskState.Succeeded);

        // Watch the record until it expires: every time it is there it must still have its error.
        var observations = new List<string>();
        await Eventually.GetAsync(async () =>
        {
            var record = await admin.TaskAsync(published.MessageId);
            if (record is not null)
            {
                observations.Add($"{record.State} with {record.Errors.Count} error(s)");
            }

            return record;
        }, r => r is null, TimeSpan.FromSeconds(10), "the record to expire");

        var withoutErrors = observations.Count(o => o.EndsWith("with 0 error(s)", StringComparison.Ordinal));
        Assert.True(withoutErrors == 0,
            $"Expected the record to keep its attempt-1 error for as long as it lives, but {withoutErrors} of {observations.Count} reads found it without errors " +
            "(the errors list expires a TTL after the failure, the record a TTL after its last change).");
    }

    [Fact]
    public async Task Given_records_of_two_queues_when_one_queue_is_terminated_then_only_its_records_are_deleted()
    {
        await using var host = await TestHost.StartAsync(m => m.Tracking());
        var admin = host.Admin();
        var doomed = (await host.Publisher.PublishBatchAsync(Enumerable.Range(0, 600).Select(_ => new OutgoingMessage { Queue = Queue, Type = Type, Payload = "d"u8.ToArray() }).ToArray()))
            .Select(r => r.MessageId).ToArray();
        var kept = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = "other", Type = Type, Payload = "k"u8.ToArray() });
        Assert.NotNull(await admin.TaskAsync(doomed[0]));

        await admin.TerminateAsync(Queue);

        foreach (var id in doomed)
        {
            Assert.True(await admin.TaskAsync(id) is null, $"Expected the record of {id} of the terminated queue to be deleted.");
        }

        var keys = await TaskKit.TaskKeysAsync(host.Redis, host.Prefix);
        var leftOver = keys.Where(k => doomed.Any(id => k.Contains(id, StringComparison.Ordinal))).ToArray();
        Assert.True(leftOver.Length == 0, $"Expected no record or errors key of the terminated queue, but found {leftOver.Length}: {string.Join(", ", leftOver.Take(5))}");
        Assert.True((await admin.TaskAsync(kept.MessageId)) is { State: TaskState.Pending }, "Expected the record of the other queue to be kept.");
        Assert.Empty((await admin.TasksAsync(new TaskQuery { Queue = Queue })).Items);
        var pending = await admin.TasksAsync(new TaskQuery { State = TaskState.Pending, Limit = 1000 });
        Assert.Equal([kept.MessageId], pending.Items.Select(r => r.Id));
    }

    [Fact]
    public async Task Given_tracking_off_when_messages_are_published_handled_failed_and_dead_lettered_then_no_task_key_or_event_is_written()
    {
        var calls = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(50), Jitter = 0 });
            m.AddConsumer(Queue).AddHandler(Type, (context, _) =>
            {
                calls.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1);
                if (context.Message.PayloadText == "fail")
                {
                    throw new InvalidOperationException("always");
                }

                context.Result = "ignored";
                return Task.CompletedTask;
            });
        });
        var admin = host.Admin();

        var ok = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "ok"u8.ToArray() });
        var bad = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "fail"u8.ToArray() });
        var later = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "ok"u8.ToArray(), Delay = TimeSpan.FromMilliseconds(300) });
        await Eventually.GetAsync(async () => (Ok: calls.ContainsKey(ok.MessageId) && calls.ContainsKey(later.MessageId), Dead: await admin.DeadLetterCountAsync(Queue)),
            s => s.Ok && s.Dead == 1, TimeSpan.FromSeconds(15), "the good messages handled and the bad one dead-lettered");
        var letter = Assert.Single(await admin.DeadLettersAsync(Queue, count: 10));
        calls.Clear();
        await admin.RequeueDeadLetterAsync(Queue, letter.Id);
        await Eventually.GetAsync(() => Task.FromResult(calls.ContainsKey(bad.MessageId)), c => c, TimeSpan.FromSeconds(10), "the requeued message handled again");

        var keys = await TaskKit.TaskKeysAsync(host.Redis, host.Prefix);
        Assert.True(keys.Count == 0, $"Expected no key under {{{host.Prefix}:tasks}} with tracking off, but found {keys.Count}: {string.Join(", ", keys.Take(10))}");
        Assert.Null(await admin.TaskAsync(ok.MessageId));
        Assert.Empty((await admin.TasksAsync(new TaskQuery())).Items);
        Assert.Empty(await admin.EventsAsync(null, 100));
        var all = await Failures.FailureKit.ScanKeysAsync(host.Redis, "*" + host.Prefix + "*");
        Assert.DoesNotContain(all, k => k.Contains(":tasks", StringComparison.Ordinal) || k.Contains(":task:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Given_a_message_published_without_tracking_when_a_tracking_consumer_handles_it_then_the_record_is_made_from_the_message()
    {
        await using var publisher = await TestHost.StartAsync(_ => { });
        var published = await publisher.Publisher.PublishAsync(new OutgoingMessage
        {
            Queue = Queue,
            Type = Type,
            Payload = "untracked"u8.ToArray(),
            Tenant = "initech",
            Headers = new Dictionary<string, string> { ["source"] = "legacy" },
        });
        Assert.Null(await publisher.Admin().TaskAsync(published.MessageId));

        await using var worker = await TestHost.StartAsync(m => m.Tracking().AddConsumer(Queue, c => c.StartPosition = StartPosition.Earliest).AddHandler(Type, (context, _) =>
        {
            context.Result = "seen";
            return Task.CompletedTask;
        }), publisher.Prefix);
        var admin = worker.Admin();

        var done = await admin.WaitForStateAsync(published.MessageId, TaskState.Succeeded);
        Assert.Equal(("untracked", "initech", "legacy", "seen", 1), (System.Text.Encoding.UTF8.GetString(done.Payload.Span), done.Tenant, done.Headers["source"], done.Result, done.Attempts));
        Assert.True(done.CreatedAt <= done.UpdatedAt && done.CreatedAt > DateTimeOffset.UtcNow.AddMinutes(-5), $"Expected CreatedAt to be the message's creation, but it is {done.CreatedAt:O}.");
        // Whoever makes the record first announces it, so a message's events always begin with "published".
        Assert.Equal(["published", "started", "succeeded"], (await TaskKit.AllEventsAsync(admin)).Where(e => e.MessageId == published.MessageId).Select(e => e.Event));
        Assert.Null(await admin.TaskAsync("no-such-message"));
    }

    [Fact]
    public async Task Given_task_state_settings_out_of_range_when_the_host_starts_then_it_fails_naming_the_setting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync(m => m.Tracking(t => t.Ttl = TimeSpan.FromMilliseconds(10))));
        Assert.Contains("Millrace:TaskState:Ttl", error.Message, StringComparison.Ordinal);

        error = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync(m => m.Tracking(t => t.MaxErrors = 0)));
        Assert.Contains("MaxErrors", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_MaxErrors_2_when_a_message_fails_four_times_then_the_record_keeps_the_last_two_errors()
    {
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { MaxAttempts = 4, InitialDelay = TimeSpan.FromMilliseconds(50), Multiplier = 1, Jitter = 0 });
            m.Tracking(t => t.MaxErrors = 2).AddConsumer(Queue).AddHandler(Type, (context, _) => throw new InvalidOperationException($"attempt {context.Message.Attempt}"));
        });
        var admin = host.Admin();

        var published = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "m"u8.ToArray() });

        var dead = await admin.WaitForStateAsync(published.MessageId, TaskState.Dead);
        Assert.Equal(4, dead.Attempts);
        Assert.Equal([3, 4], dead.Errors.Select(e => e.Attempt));
    }
}
