using System.Collections.Concurrent;
using System.Text;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Tasks;

/// <summary>
/// A message's task record follows each of its transitions (scheduled or pending, processing,
/// failed, succeeded, dead, stopped, requeued), with its attempts, their errors and its result.
/// </summary>
public sealed class TaskStateTransitionTests(ITestOutputHelper output)
{
    private const string Queue = "jobs";
    private const string Type = "job";

    [Fact]
    public async Task Given_a_delayed_message_when_it_is_handled_then_its_record_goes_scheduled_processing_succeeded_with_the_handlers_result()
    {
        var seenInside = new TaskCompletionSource<TaskRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        MillraceAdmin? admin = null;
        await using var host = await TestHost.StartAsync(m => m.Tracking().AddConsumer(Queue).AddHandler(Type, async (context, _) =>
        {
            // From inside the handler: the record says processing, attempt 1 (written while the handler runs).
            var record = await admin!.WaitForTaskAsync(context.Message.Id, r => r.State == TaskState.Processing, "processing, seen from inside the handler", TimeSpan.FromSeconds(5));
            seenInside.TrySetResult(record);
            context.Result = $$"""{"handled":"{{context.Message.Id}}"}""";
        }));
        admin = host.Admin();

        var published = await host.Publisher.PublishAsync(new OutgoingMessage
        {
            Queue = Queue,
            Type = Type,
            Payload = "hello"u8.ToArray(),
            Tenant = "acme",
            Headers = new Dictionary<string, string> { ["origin"] = "test" },
            Delay = TimeSpan.FromSeconds(2),
        });

        var scheduled = await admin.TaskAsync(published.MessageId);
        Assert.True(scheduled is { State: TaskState.Scheduled }, $"Expected a delayed message's record to be Scheduled as soon as PublishAsync returned, but it was: {TaskKit.Describe(scheduled)}");
        Assert.Equal((published.MessageId, Queue, Type, "acme", 0), (scheduled!.Id, scheduled.Queue, scheduled.Type, scheduled.Tenant, scheduled.Attempts));
        Assert.Equal("hello", Encoding.UTF8.GetString(scheduled.Payload.Span));
        Assert.False(scheduled.PayloadTruncated);
        Assert.Equal("test", scheduled.Headers["origin"]);
        Assert.Empty(scheduled.Errors);
        Assert.Null(scheduled.Result);

        var inside = await seenInside.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal((TaskState.Processing, 1), (inside.State, inside.Attempts));
        Assert.Null(inside.Result);

        var done = await admin.WaitForStateAsync(published.MessageId, TaskState.Succeeded);
        Assert.Equal($$"""{"handled":"{{published.MessageId}}"}""", done.Result);
        Assert.Equal(1, done.Attempts);
        Assert.Empty(done.Errors);
        Assert.Equal(scheduled.CreatedAt, done.CreatedAt);
        Assert.True(done.UpdatedAt >= inside.UpdatedAt && inside.UpdatedAt >= scheduled.UpdatedAt,
            $"Expected UpdatedAt to move forward: scheduled {scheduled.UpdatedAt:O}, processing {inside.UpdatedAt:O}, succeeded {done.UpdatedAt:O}.");
        Assert.Equal("hello", Encoding.UTF8.GetString(done.Payload.Span));
    }

    [Fact]
    public async Task Given_no_consumer_when_a_message_is_published_then_its_record_is_pending_until_a_consumer_handles_it()
    {
        await using var publisher = await TestHost.StartAsync(m => m.Tracking());
        var admin = publisher.Admin();

        var published = await publisher.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "p"u8.ToArray() });

        var pending = await admin.TaskAsync(published.MessageId);
        Assert.True(pending is { State: TaskState.Pending, Attempts: 0 }, $"Expected Pending with 0 attempts, but it was: {TaskKit.Describe(pending)}");

        await using var worker = await TestHost.StartAsync(m => m.Tracking().AddConsumer(Queue, c => c.StartPosition = StartPosition.Earliest).AddHandler(Type, (context, _) =>
        {
            context.Result = "ok";
            return Task.CompletedTask;
        }), publisher.Prefix);

        var done = await admin.WaitForStateAsync(published.MessageId, TaskState.Succeeded);
        Assert.Equal(("ok", 1), (done.Result, done.Attempts));
    }

    [Fact]
    public async Task Given_a_handler_that_fails_once_when_the_retry_succeeds_then_the_record_shows_failed_with_the_error_then_succeeded_with_the_error_kept()
    {
        var attempts = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var secondInside = new TaskCompletionSource<TaskRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        MillraceAdmin? admin = null;
        await using var host = await TestHost.StartAsync(m =>
        {
            // A long enough wait before the retry to see the Failed state from outside.
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromSeconds(2), Jitter = 0 });
            m.Tracking().AddConsumer(Queue).AddHandler(Type, async (context, _) =>
            {
                if (attempts.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1) == 1)
                {
                    throw new InvalidOperationException("card declined, once");
                }

                secondInside.TrySetResult(await admin!.WaitForTaskAsync(context.Message.Id, r => r.State == TaskState.Processing, "processing again", TimeSpan.FromSeconds(5)));
                context.Result = "charged";
            });
        });
        admin = host.Admin();

        var published = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "c"u8.ToArray() });

        var failed = await admin.WaitForStateAsync(published.MessageId, TaskState.Failed);
        Assert.Equal(1, failed.Attempts);
        var error = Assert.Single(failed.Errors);
        Assert.Equal(1, error.Attempt);
        Assert.Equal("InvalidOperationException: card declined, once", error.Error);
        Assert.True(error.At >= failed.CreatedAt, $"Expected the error's time ({error.At:O}) not before the record's creation ({failed.CreatedAt:O}).");
        Assert.Null(failed.Result);

        var second = await secondInside.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal((TaskState.Processing, 2), (second.State, second.Attempts));
        Assert.Equal(error, Assert.Single(second.Errors));

        var done = await admin.WaitForStateAsync(published.MessageId, TaskState.Succeeded);
        Assert.Equal(("charged", 2), (done.Result, done.Attempts));
        Assert.Equal(error, Assert.Single(done.Errors));
    }

    [Fact]
    public async Task Given_a_handler_that_always_fails_when_its_attempts_run_out_then_the_record_is_dead_with_every_error()
    {
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(100), Jitter = 0 });
            m.Tracking().AddConsumer(Queue).AddHandler(Type, (context, _) => throw new InvalidOperationException($"broken on attempt {context.Message.Attempt}"));
        });
        var admin = host.Admin();

        var published = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "d"u8.ToArray() });

        var dead = await admin.WaitForStateAsync(published.MessageId, TaskState.Dead);
        Assert.Equal(2, dead.Attempts);
        Assert.Equal([1, 2], dead.Errors.Select(e => e.Attempt));
        Assert.Equal("InvalidOperationException: broken on attempt 1", dead.Errors[0].Error);
        Assert.Contains("InvalidOperationException: broken on attempt 2", dead.Errors[1].Error, StringComparison.Ordinal);
        Assert.Null(dead.Result);
        Assert.Equal(1, await admin.DeadLetterCountAsync(Queue));
    }

    [Fact]
    public async Task Given_a_stopped_message_when_it_is_resumed_then_its_record_goes_stopped_pending_succeeded()
    {
        var handled = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var worker = await StartWorkerAsync(handled);
        await using var operatorTool = await TestHost.StartAsync(m => m.Tracking(), worker.Prefix);
        var admin = operatorTool.Admin();

        // Due after every worker has seen the stop (they follow control changes within a second).
        var published = await operatorTool.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "s"u8.ToArray(), Delay = TimeSpan.FromSeconds(2) });
        await admin.StopMessageAsync(Queue, published.MessageId);

        var stopped = await admin.WaitForStateAsync(published.MessageId, TaskState.Stopped);
        Assert.False(handled.ContainsKey(published.MessageId), "Expected a stopped message not to be handled.");

        // No consumer runs while it is resumed, so the pending state can be seen.
        await worker.StopAsync();
        Assert.True(await admin.ResumeMessageAsync(Queue, published.MessageId), "Expected ResumeMessageAsync to find the message parked.");
        var pending = await admin.TaskAsync(published.MessageId);
        Assert.True(pending is { State: TaskState.Pending }, $"Expected Pending once ResumeMessageAsync returned, but it was: {TaskKit.Describe(pending)}");

        await using var again = await StartWorkerAsync(handled, worker.Prefix);
        var done = await admin.WaitForStateAsync(published.MessageId, TaskState.Succeeded);
        Assert.Equal(("done", 1), (done.Result, done.Attempts));
        Assert.Equal(1, handled[published.MessageId]);
        Assert.True(stopped.Attempts == 0, $"Expected the record of a message parked before any handler ran to count 0 attempts (\"handler attempts started\"), but it said {stopped.Attempts}.");
    }

    [Fact]
    public async Task Given_a_live_consumer_when_many_stopped_messages_are_resumed_then_every_record_ends_succeeded()
    {
        const int count = 50;
        var handled = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var worker = await StartWorkerAsync(handled);
        var admin = worker.Admin();
        var ids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid().ToString("N")).ToArray();
        foreach (var id in ids)
        {
            await admin.StopMessageAsync(Queue, id);
        }

        await worker.Publisher.PublishBatchAsync(ids.Select(id => new OutgoingMessage { Queue = Queue, Type = Type, Id = id, Payload = "s"u8.ToArray(), Delay = TimeSpan.FromSeconds(2) }).ToArray());
        await WaitAllAsync(admin, ids, TaskState.Stopped);

        foreach (var id in ids)
        {
            Assert.True(await admin.ResumeMessageAsync(Queue, id), $"Expected {id} parked when resumed.");
        }

        await Eventually.GetAsync(() => Task.FromResult(ids.Count(handled.ContainsKey)), n => n == count, TimeSpan.FromSeconds(15), $"all {count} resumed messages handled");
        var states = await WaitAllAsync(admin, ids, TaskState.Succeeded, throwOnTimeout: false);
        var wrong = states.Where(s => s.Value != TaskState.Succeeded).ToArray();
        Assert.True(wrong.Length == 0,
            $"Expected every resumed message that its handler ran successfully to end Succeeded, but {wrong.Length} of {count} did not " +
            $"({string.Join(", ", wrong.GroupBy(w => w.Value).Select(g => $"{g.Count()} {g.Key}"))}).");
    }

    [Fact]
    public async Task Given_a_dead_letter_when_it_is_requeued_then_its_record_goes_pending_then_succeeded_with_the_old_errors_kept()
    {
        var calls = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var worker = await StartWorkerAsync(calls, failFirst: true);
        await using var operatorTool = await TestHost.StartAsync(m => m.Tracking(), worker.Prefix);
        var admin = operatorTool.Admin();

        var published = await operatorTool.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "r"u8.ToArray() });
        var dead = await admin.WaitForStateAsync(published.MessageId, TaskState.Dead);
        var letter = Assert.Single(await admin.DeadLettersAsync(Queue, count: 10));
        Assert.Equal(published.MessageId, letter.MessageId);

        await worker.StopAsync();
        Assert.True(await admin.RequeueDeadLetterAsync(Queue, letter.Id), "Expected RequeueDeadLetterAsync to find the dead letter.");
        var pending = await admin.TaskAsync(published.MessageId);
        Assert.True(pending is { State: TaskState.Pending }, $"Expected Pending once RequeueDeadLetterAsync returned, but it was: {TaskKit.Describe(pending)}");
        Assert.Equal(dead.Errors, pending!.Errors);

        await using var again = await StartWorkerAsync(calls, worker.Prefix, failFirst: true);
        var done = await admin.WaitForStateAsync(published.MessageId, TaskState.Succeeded);
        Assert.Equal("done", done.Result);
        Assert.Equal(dead.Errors, done.Errors);
        Assert.Equal(2, calls[published.MessageId]);
    }

    [Fact]
    public async Task Given_messages_parked_by_a_paused_type_when_the_type_is_resumed_then_their_records_are_pending_again()
    {
        var handled = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var worker = await StartWorkerAsync(handled);
        await using var operatorTool = await TestHost.StartAsync(m => m.Tracking(), worker.Prefix);
        var admin = operatorTool.Admin();
        await admin.PauseTypeAsync(Queue, Type);
        var published = await operatorTool.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = Type, Payload = "t"u8.ToArray(), Delay = TimeSpan.FromSeconds(2) });
        await admin.WaitForStateAsync(published.MessageId, TaskState.Stopped);

        await worker.StopAsync();
        Assert.Equal(1, await admin.ResumeTypeAsync(Queue, Type));

        var record = await admin.TaskAsync(published.MessageId);
        Assert.True(record is { State: TaskState.Pending },
            $"Expected the record of a message that ResumeTypeAsync put back in its stream to be Pending (as ResumeMessageAsync does), but it was: {TaskKit.Describe(record)}");
    }

    [Fact]
    public async Task Given_a_live_consumer_when_many_dead_letters_are_requeued_then_every_record_ends_succeeded()
    {
        // The requeue and its "pending" record are two steps; a fast consumer may handle the message in between.
        const int count = 100;
        var calls = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var worker = await StartWorkerAsync(calls, failFirst: true);
        var admin = worker.Admin();
        var ids = (await worker.Publisher.PublishBatchAsync(Enumerable.Range(0, count).Select(_ => new OutgoingMessage { Queue = Queue, Type = Type, Payload = "x"u8.ToArray() }).ToArray()))
            .Select(r => r.MessageId).ToArray();
        await Eventually.GetAsync(() => admin.DeadLetterCountAsync(Queue), n => n == count, TimeSpan.FromSeconds(15), $"{count} dead letters");
        await WaitAllAsync(admin, ids, TaskState.Dead);

        var result = await admin.RequeueDeadLettersAsync(Queue, new DeadLetterFilter(), dryRun: false);
        Assert.Equal(count, result.Requeued);
        await Eventually.GetAsync(() => Task.FromResult(ids.Count(id => calls[id] == 2)), n => n == count, TimeSpan.FromSeconds(15), $"all {count} requeued messages handled again");

        var states = await WaitAllAsync(admin, ids, TaskState.Succeeded, throwOnTimeout: false);
        var events = await TaskKit.AllEventsAsync(admin);
        var startedBeforeRequeued = ids.Count(id =>
        {
            var names = events.Where(e => e.MessageId == id).Select(e => e.Event).ToList();
            return names.LastIndexOf("started") < names.IndexOf("requeued");
        });
        output.WriteLine($"{startedBeforeRequeued} of {count} requeued messages had their 'started' event before 'requeued'; " +
            $"final states: {string.Join(", ", states.GroupBy(s => s.Value).Select(g => $"{g.Count()} {g.Key}"))}");
        var wrong = states.Where(s => s.Value != TaskState.Succeeded).ToArray();
        Assert.True(wrong.Length == 0,
            $"Expected every requeued message that its handler ran successfully to end Succeeded, but {wrong.Length} of {count} did not " +
            $"({string.Join(", ", wrong.GroupBy(w => w.Value).Select(g => $"{g.Count()} {g.Key}"))}): the 'requeued' write landed after the consumer's 'succeeded'.");
        Assert.True(startedBeforeRequeued == 0,
            $"Expected each requeued message's 'requeued' event before its next 'started', but {startedBeforeRequeued} of {count} were started before the requeue was recorded.");
    }

    private static async Task<Dictionary<string, TaskState?>> WaitAllAsync(MillraceAdmin admin, IReadOnlyList<string> ids, TaskState state, bool throwOnTimeout = true)
    {
        var states = new Dictionary<string, TaskState?>(StringComparer.Ordinal);
        try
        {
            await Eventually.GetAsync(async () =>
            {
                foreach (var id in ids)
                {
                    states[id] = (await admin.TaskAsync(id))?.State;
                }

                return states.Values.Count(s => s == state);
            }, n => n == ids.Count, TimeSpan.FromSeconds(10), $"all {ids.Count} records {state}");
        }
        catch (TimeoutException) when (!throwOnTimeout)
        {
            // The caller reports which records are not in the state.
        }

        return states;
    }

    /// <summary>A worker whose handler sets the result "done"; with <paramref name="failFirst"/> the first call of each message fails, with no retries.</summary>
    private static Task<TestHost> StartWorkerAsync(ConcurrentDictionary<string, int> calls, string? prefix = null, bool failFirst = false) => TestHost.StartAsync(m =>
    {
        m.Services.Configure<MillraceOptions>(o =>
        {
            o.Retry = RetryPolicy.None;
            o.CircuitBreaker = CircuitBreakerOptions.Disabled;   // many first calls fail on purpose
        });
        m.Tracking().AddConsumer(Queue).AddHandler(Type, (context, _) =>
        {
            if (calls.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1) == 1 && failFirst)
            {
                throw new InvalidOperationException("the downstream service is down");
            }

            context.Result = "done";
            return Task.CompletedTask;
        });
    }, prefix);
}
