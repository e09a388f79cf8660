using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;

namespace Millrace.Tests.Tasks;

[MessageType("tally.item")]
public sealed record TallyItem(int N);

/// <summary>With <see cref="State.FailFirst"/>, fails every batch holding a message on its first attempt; sets each item's result to twice its number.</summary>
public sealed class TallyBatchHandler(TallyBatchHandler.State state) : IBatchMessageHandler<TallyItem>
{
    public Task HandleAsync(IReadOnlyList<BatchItem<TallyItem>> batch, CancellationToken cancellationToken)
    {
        if (state.FailFirst && batch.Any(i => i.Context.Message.Attempt == 1))
        {
            throw new InvalidOperationException("the tally store is busy");
        }

        foreach (var item in batch)
        {
            item.Context.Result = (item.Message.N * 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return Task.CompletedTask;
    }

    public sealed class State(bool failFirst)
    {
        public bool FailFirst { get; } = failFirst;
    }
}

/// <summary>Task records of batch handlers (each message its own result), and namespaces keeping their records apart.</summary>
public sealed class TaskBatchAndNamespaceTests
{
    private const string Queue = "tally";

    [Fact]
    public async Task Given_a_batch_handler_when_it_sets_each_items_result_then_each_record_is_succeeded_with_its_own_result()
    {
        await using var host = await StartAsync(failFirst: false);
        var admin = host.Admin();

        var ids = (await host.Publisher.PublishBatchAsync(Queue, Enumerable.Range(1, 30).Select(i => new TallyItem(i)))).Select(r => r.MessageId).ToArray();

        for (var i = 0; i < ids.Length; i++)
        {
            var done = await admin.WaitForStateAsync(ids[i], TaskState.Succeeded);
            Assert.Equal(((i + 1) * 2).ToString(System.Globalization.CultureInfo.InvariantCulture), done.Result);
            Assert.Equal(1, done.Attempts);
        }
    }

    [Fact]
    public async Task Given_a_batch_that_fails_once_when_it_is_retried_then_each_record_shows_the_failure_then_success()
    {
        await using var host = await StartAsync(failFirst: true);
        var admin = host.Admin();

        var ids = (await host.Publisher.PublishBatchAsync(Queue, Enumerable.Range(1, 5).Select(i => new TallyItem(i)))).Select(r => r.MessageId).ToArray();

        foreach (var id in ids)
        {
            var done = await admin.WaitForStateAsync(id, TaskState.Succeeded);
            Assert.Equal(2, done.Attempts);
            var error = Assert.Single(done.Errors);
            Assert.Equal((1, "InvalidOperationException: the tally store is busy"), (error.Attempt, error.Error));
        }
    }

    [Fact]
    public async Task Given_two_namespaces_on_one_prefix_when_both_track_tasks_then_neither_sees_the_others_records_or_events()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        await using var acme = await TestHost.StartAsync(m => { m.Services.Configure<MillraceOptions>(o => o.Namespace = "acme"); m.Tracking(); }, prefix);
        await using var globex = await TestHost.StartAsync(m => { m.Services.Configure<MillraceOptions>(o => o.Namespace = "globex"); m.Tracking(); }, prefix);

        var a = await acme.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = "tally.item", Payload = "{}"u8.ToArray() });
        var g = await globex.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = "tally.item", Payload = "{}"u8.ToArray() });

        Assert.NotNull(await acme.Admin().TaskAsync(a.MessageId));
        Assert.Null(await acme.Admin().TaskAsync(g.MessageId));
        Assert.Null(await globex.Admin().TaskAsync(a.MessageId));
        Assert.Equal([a.MessageId], (await acme.Admin().TasksAsync(new TaskQuery())).Items.Select(r => r.Id));
        Assert.Equal([g.MessageId], (await globex.Admin().TasksAsync(new TaskQuery())).Items.Select(r => r.Id));
        Assert.Equal([a.MessageId], (await acme.Admin().EventsAsync(null, 100)).Select(e => e.MessageId));
        Assert.Equal([g.MessageId], (await globex.Admin().EventsAsync(null, 100)).Select(e => e.MessageId));
    }

    private static Task<TestHost> StartAsync(bool failFirst) => TestHost.StartAsync(m =>
    {
        m.Services.AddSingleton(new TallyBatchHandler.State(failFirst));
        m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(200), Jitter = 0 });
        m.Tracking().AddConsumer(Queue).AddBatchHandler<TallyItem, TallyBatchHandler>(b => { b.Size = 10; b.MaxWait = TimeSpan.FromMilliseconds(100); });
    });
}
