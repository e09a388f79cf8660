using System.Collections.Concurrent;
using Millrace.Tests.Support;

namespace Millrace.Tests.Consuming;

[MessageType("metric.sample")]
public sealed record Sample(int Value);

public sealed class BatchLog
{
    public ConcurrentQueue<int[]> Batches { get; } = new();

    public int Total => Batches.Sum(b => b.Length);
}

public sealed class SampleBatchHandler(BatchLog log) : IBatchMessageHandler<Sample>
{
    public Task HandleAsync(IReadOnlyList<BatchItem<Sample>> batch, CancellationToken cancellationToken)
    {
        log.Batches.Enqueue(batch.Select(i => i.Message.Value).ToArray());
        return Task.CompletedTask;
    }
}

public sealed class BatchHandlerTests
{
    [Fact]
    public async Task Batches_never_exceed_their_size_and_every_message_arrives_once()
    {
        var log = new BatchLog();
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.AddSingleton(log);
            m.AddConsumer("samples", c => c.Concurrency = 4).AddBatchHandler<Sample, SampleBatchHandler>(b => { b.Size = 25; b.MaxWait = TimeSpan.FromSeconds(5); });
        });

        await host.Publisher.PublishBatchAsync("samples", Enumerable.Range(0, 500).Select(i => new Sample(i)));
        await Redis.Tests.Support.Eventually.GetAsync(() => Task.FromResult(log.Total), n => n >= 500, TimeSpan.FromSeconds(15), "500 messages in batches");

        Assert.All(log.Batches, b => Assert.InRange(b.Length, 1, 25));
        Assert.Equal(Enumerable.Range(0, 500), log.Batches.SelectMany(b => b).Order());
        Assert.Equal(500 / 25, log.Batches.Count(b => b.Length == 25));   // full batches: nothing waited for the timeout
    }

    [Fact]
    public async Task A_batch_that_does_not_fill_runs_after_its_max_wait()
    {
        var log = new BatchLog();
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.AddSingleton(log);
            m.AddConsumer("samples").AddBatchHandler<Sample, SampleBatchHandler>(b => { b.Size = 100; b.MaxWait = TimeSpan.FromMilliseconds(300); });
        });

        await host.Publisher.PublishBatchAsync("samples", Enumerable.Range(0, 7).Select(i => new Sample(i)));
        await Redis.Tests.Support.Eventually.GetAsync(() => Task.FromResult(log.Total), n => n >= 7, TimeSpan.FromSeconds(10), "the partial batch to run");

        Assert.Equal([0, 1, 2, 3, 4, 5, 6], Assert.Single(log.Batches).Order());
    }

    [Fact]
    public async Task Batch_and_single_handlers_mix_and_types_without_a_batch_handler_go_one_by_one()
    {
        var log = new BatchLog();
        var singles = new Received();
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.AddSingleton(log).AddSingleton(singles);
            m.AddConsumer("mixed")
                .AddBatchHandler<Sample, SampleBatchHandler>(b => { b.Size = 10; b.MaxWait = TimeSpan.FromMilliseconds(200); })
                .AddHandler<OrderCreated, OrderHandler>();
        });

        await host.Publisher.PublishBatchAsync("mixed", Enumerable.Range(0, 30).Select(i => new Sample(i)));
        await host.Publisher.PublishBatchAsync("mixed", Enumerable.Range(0, 5).Select(i => new OrderCreated(i, "c")));
        await Redis.Tests.Support.Eventually.GetAsync(() => Task.FromResult(log.Total), n => n >= 30, TimeSpan.FromSeconds(10), "30 samples in batches");
        await singles.WaitForAsync(5);

        Assert.Equal(30, log.Total);
        Assert.Equal(5, singles.Count);
    }

    [Fact]
    public async Task Every_message_of_a_failed_batch_comes_back_as_its_next_attempt()
    {
        var attempts = new ConcurrentQueue<(int Value, int Attempt)[]>();
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.AddSingleton(attempts);
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { InitialDelay = TimeSpan.FromMilliseconds(200) });
            m.AddConsumer("samples").AddBatchHandler<Sample, FailsOnceBatchHandler>(b => { b.Size = 5; b.MaxWait = TimeSpan.FromMilliseconds(100); });
        });

        await host.Publisher.PublishBatchAsync("samples", Enumerable.Range(0, 5).Select(i => new Sample(i)));
        await Redis.Tests.Support.Eventually.GetAsync(() => Task.FromResult(attempts.Skip(1).Sum(b => b.Length)), n => n >= 5, TimeSpan.FromSeconds(15), "the failed batch's messages to come back");

        var all = attempts.ToArray();
        Assert.Equal([(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)], all[0].Order());
        Assert.Equal([(0, 2), (1, 2), (2, 2), (3, 2), (4, 2)], all.Skip(1).SelectMany(b => b).Order());
    }
}

public sealed class FailsOnceBatchHandler(ConcurrentQueue<(int Value, int Attempt)[]> attempts) : IBatchMessageHandler<Sample>
{
    public Task HandleAsync(IReadOnlyList<BatchItem<Sample>> batch, CancellationToken cancellationToken)
    {
        attempts.Enqueue(batch.Select(i => (i.Message.Value, i.Context.Message.Attempt)).ToArray());
        return attempts.Count == 1 ? throw new InvalidOperationException("first batch fails on purpose") : Task.CompletedTask;
    }
}
