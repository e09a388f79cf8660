using System.Collections.Concurrent;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Consuming;

public sealed class PriorityTests(ITestOutputHelper output)
{
    private static OutgoingMessage Job(int priority) => new() { Queue = "jobs", Type = "job", Payload = new byte[8], Priority = priority };

    /// <summary>Messages are published before the consumer starts, so every level has a backlog: the order then shows the policy.</summary>
    private static async Task<int[]> HandleInOrderAsync(Action<QueueOptions> queue, int low, int high, int handleFirst)
    {
        var prefix = $"t{Guid.NewGuid():N}";
        await using (var producer = await TestHost.StartAsync(m => m.AddQueue("jobs", queue), prefix))
        {
            var mixed = Enumerable.Range(0, low).Select(_ => Job(0)).Concat(Enumerable.Range(0, high).Select(_ => Job(1))).ToArray();
            Random.Shared.Shuffle(mixed);
            await producer.Publisher.PublishBatchAsync(mixed);
        }

        var order = new ConcurrentQueue<int>();
        await using var host = await TestHost.StartAsync(m => m
            .AddQueue("jobs", queue)
            .AddConsumer("jobs", c => { c.StartPosition = StartPosition.Earliest; c.Concurrency = 1; c.FetchCount = 10; })
            .AddHandler("job", (context, _) =>
            {
                order.Enqueue(context.Message.Priority);
                return Task.CompletedTask;
            }), prefix);
        await Eventually.GetAsync(() => Task.FromResult(order.Count), n => n >= handleFirst, TimeSpan.FromSeconds(30), $"{handleFirst} messages handled");
        return order.Take(handleFirst).ToArray();
    }

    [Fact]
    public async Task Strict_priority_drains_the_high_level_before_the_low_one()
    {
        var order = await HandleInOrderAsync(q => q.PriorityLevels = 2, low: 1000, high: 1000, handleFirst: 2000);

        var lastHigh = Array.LastIndexOf(order, 1);
        var firstLow = Array.IndexOf(order, 0);
        Assert.True(lastHigh < firstLow, $"every high message should come before any low one; the last high was #{lastHigh}, the first low #{firstLow}");
    }

    [Fact]
    public async Task Weighted_priority_gives_the_configured_shares_within_ten_percent()
    {
        // Weights 1:3 => the high level should get 75% of what is handled while both levels have a backlog.
        var order = await HandleInOrderAsync(q => { q.PriorityLevels = 2; q.PriorityMode = PriorityMode.Weighted; q.PriorityWeights = [1, 3]; }, low: 3000, high: 3000, handleFirst: 2000);

        var highShare = order.Count(p => p == 1) / (double)order.Length;
        output.WriteLine($"high share {highShare:P1} of the first {order.Length} (configured 75%)");
        Assert.InRange(highShare, 0.75 * 0.9, 0.75 * 1.1);
    }

    [Fact]
    public async Task The_starvation_guard_keeps_the_low_level_moving_under_strict_priority()
    {
        var order = await HandleInOrderAsync(q => { q.PriorityLevels = 2; q.StarvationGuard = 4; }, low: 1000, high: 1000, handleFirst: 400);

        var lowShare = order.Count(p => p == 0) / (double)order.Length;
        output.WriteLine($"low share {lowShare:P1} of the first {order.Length} with a guard of one read in four");
        Assert.InRange(lowShare, 0.15, 0.35);   // about one read in four serves the low level first
    }

    [Fact]
    public async Task A_retried_message_comes_back_at_its_own_level()
    {
        var seen = new ConcurrentQueue<(int Priority, int Attempt, string Stream)>();
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { InitialDelay = TimeSpan.FromMilliseconds(100) });
            m.AddQueue("jobs", q => q.PriorityLevels = 3).AddConsumer("jobs").AddHandler("job", (context, _) =>
            {
                seen.Enqueue((context.Message.Priority, context.Message.Attempt, context.Message.StreamId));
                return context.Message.Attempt == 1 ? throw new InvalidOperationException("first attempt fails on purpose") : Task.CompletedTask;
            });
        });

        await host.Publisher.PublishAsync(Job(2));
        await Eventually.GetAsync(() => Task.FromResult(seen.Count), n => n >= 2, TimeSpan.FromSeconds(10), "the retry");

        var keys = new QueueKeys(host.Prefix, "jobs", 1, 3);
        var retry = seen.ToArray()[1];
        Assert.Equal((2, 2), (retry.Priority, retry.Attempt));
        var onTopLevel = await host.Redis.XRangeAsync(keys.Stream(0, 2), retry.Stream, retry.Stream);
        Assert.Single(onTopLevel);
    }
}
