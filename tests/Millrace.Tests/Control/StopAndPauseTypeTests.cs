using System.Collections.Concurrent;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Failures;
using Millrace.Tests.Support;

namespace Millrace.Tests.Control;

/// <summary>
/// Stopping one message and pausing one type: their messages are parked out of the stream (handled by
/// no consumer) while the rest flows, and resuming puts them back to be handled exactly once.
/// </summary>
public sealed class StopAndPauseTypeTests
{
    private const string Queue = "orders";

    /// <summary>Longer than the one second within which every worker follows a control change even if it missed the announcement.</summary>
    private static readonly TimeSpan AfterControlReachedWorkers = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_stopped_message_is_handled_by_no_consumer_until_it_is_resumed_then_exactly_once()
    {
        var handled = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var one = await StartAsync(handled);
        await using var two = await StartAsync(handled, one.Prefix);
        var admin = one.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(one.Prefix, Queue, 1);

        // Published delayed, stopped at once: by the time it is due every worker knows it is stopped.
        var stopped = await one.Publisher.PublishAsync(Order("stopped", delay: AfterControlReachedWorkers));
        await admin.StopMessageAsync(Queue, stopped.MessageId);
        var others = await PublishOrdersAsync(one, 20);
        await Eventually.GetAsync(() => one.Redis.HExistsAsync(keys.Parked(0), stopped.MessageId), parked => parked, TimeSpan.FromSeconds(10),
            $"the stopped message {stopped.MessageId} parked once due");
        others = [.. others, .. await PublishOrdersAsync(one, 20)];
        await WaitHandledAsync(handled, others);
        await FailureKit.WaitForSettledAsync(one.Redis, keys, TimeSpan.FromSeconds(5), allowParked: true);

        Assert.False(handled.ContainsKey(stopped.MessageId), "Expected the stopped message to be handled by neither consumer while stopped, but it was.");
        Assert.Equal(1, await FailureKit.ParkedAsync(one.Redis, keys));

        Assert.True(await admin.ResumeMessageAsync(Queue, stopped.MessageId), "Expected ResumeMessageAsync to report that the message was parked.");
        try
        {
            await WaitHandledAsync(handled, [stopped.MessageId]);
        }
        catch (TimeoutException e)
        {
            var parkedAgain = await one.Redis.HExistsAsync(keys.Parked(0), stopped.MessageId);
            Assert.Fail($"Expected the resumed message handled, but it was not{(parkedAgain ? ": it is parked again although no longer stopped (a worker read it back before it refreshed its control state)" : "")}. {e.Message}");
        }

        await FailureKit.WaitForSettledAsync(one.Redis, keys, TimeSpan.FromSeconds(5));

        Assert.Equal(1, handled[stopped.MessageId]);
        Assert.All(others, id => Assert.Equal(1, handled[id]));
        Assert.Equal(0, (await one.Redis.ExecuteAsync(new RedisCommand("SCARD", [keys.Stopped], 0))).AsInt64());
    }

    [Fact]
    public async Task Every_message_an_operator_tool_resumes_one_after_another_is_handled()
    {
        // Resuming removes the stop, announces it, and puts the message back in the stream: a worker that
        // reads it back before it has refreshed its control state must not park it again for good.
        const int count = 100;
        var handled = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var host = await StartAsync(handled);
        await using var operatorTool = await TestHost.StartAsync(_ => { }, host.Prefix);   // an operator tool, like the CLI: its own Redis connections
        var admin = operatorTool.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(host.Prefix, Queue, 1);
        var ids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid().ToString("N")).ToArray();
        foreach (var id in ids)
        {
            await admin.StopMessageAsync(Queue, id);
        }

        await host.Publisher.PublishBatchAsync(ids.Select(id => Order("stopped", AfterControlReachedWorkers, id)).ToArray());
        await Eventually.GetAsync(() => FailureKit.ParkedAsync(host.Redis, keys), n => n == count, TimeSpan.FromSeconds(10), $"all {count} stopped messages parked");

        foreach (var id in ids)
        {
            Assert.True(await admin.ResumeMessageAsync(Queue, id), $"Expected message {id} to be parked when resumed.");
        }

        try
        {
            await WaitHandledAsync(handled, ids, TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            var parkedAgain = (await host.Redis.HGetAllAsync(keys.Parked(0))).Keys.ToArray();
            Assert.Fail($"Expected all {count} resumed messages handled, but {count - handled.Count} were not; {parkedAgain.Length} of them are parked again " +
                $"although no longer stopped (first: {string.Join(", ", parkedAgain.Take(3))}), and nothing will ever put them back.");
        }

        await FailureKit.WaitForSettledAsync(host.Redis, keys, TimeSpan.FromSeconds(5));
        Assert.All(ids, id => Assert.Equal(1, handled[id]));
    }

    [Fact]
    public async Task A_paused_type_parks_its_messages_while_others_flow_until_ResumeTypeAsync_puts_them_back()
    {
        var handled = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var host = await StartAsync(handled);
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(host.Prefix, Queue, 1);

        await admin.PauseTypeAsync(Queue, "refund");
        var refunds = (await host.Publisher.PublishBatchAsync(Enumerable.Range(0, 10).Select(_ => Refund(AfterControlReachedWorkers)).ToArray())).Select(r => r.MessageId).ToArray();
        var orders = await PublishOrdersAsync(host, 20);
        await Eventually.GetAsync(() => FailureKit.ParkedAsync(host.Redis, keys), n => n == refunds.Length, TimeSpan.FromSeconds(10), "the 10 refunds parked once due");
        orders = [.. orders, .. await PublishOrdersAsync(host, 20)];
        await WaitHandledAsync(handled, orders);
        await FailureKit.WaitForSettledAsync(host.Redis, keys, TimeSpan.FromSeconds(5), allowParked: true);

        Assert.True(refunds.All(id => !handled.ContainsKey(id)), "Expected no refund handled while the type is paused.");
        var (_, pausedTypes) = await admin.ControlStateAsync(Queue);
        Assert.Equal(["refund"], pausedTypes);

        var moved = await admin.ResumeTypeAsync(Queue, "refund");

        Assert.Equal(refunds.Length, moved);
        try
        {
            await WaitHandledAsync(handled, refunds);
        }
        catch (TimeoutException)
        {
            var parkedAgain = await FailureKit.ParkedAsync(host.Redis, keys);
            Assert.Fail($"Expected all {refunds.Length} refunds handled after ResumeTypeAsync, but {refunds.Count(id => !handled.ContainsKey(id))} were not; " +
                $"{parkedAgain} are parked again although the type is no longer paused, and nothing will ever put them back.");
        }

        await FailureKit.WaitForSettledAsync(host.Redis, keys, TimeSpan.FromSeconds(5));
        Assert.All(refunds.Concat(orders), id => Assert.Equal(1, handled[id]));
        Assert.Empty((await admin.ControlStateAsync(Queue)).PausedTypes);
    }

    private static Task<TestHost> StartAsync(ConcurrentDictionary<string, int> handled, string? prefix = null) => TestHost.StartAsync(m =>
    {
        m.AddConsumer(Queue);
        foreach (var type in new[] { "order", "refund" })
        {
            m.AddHandler(type, (context, _) =>
            {
                handled.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1);
                return Task.CompletedTask;
            });
        }
    }, prefix);

    private static async Task<string[]> PublishOrdersAsync(TestHost host, int count) =>
        (await host.Publisher.PublishBatchAsync(Enumerable.Range(0, count).Select(_ => Order("go")).ToArray())).Select(r => r.MessageId).ToArray();

    private static OutgoingMessage Order(string text, TimeSpan? delay = null, string? id = null) =>
        new() { Queue = Queue, Type = "order", Payload = System.Text.Encoding.UTF8.GetBytes(text), Delay = delay, Id = id };

    private static OutgoingMessage Refund(TimeSpan delay) => new() { Queue = Queue, Type = "refund", Payload = "r"u8.ToArray(), Delay = delay };

    private static Task WaitHandledAsync(ConcurrentDictionary<string, int> handled, IReadOnlyCollection<string> ids, TimeSpan? within = null) =>
        Eventually.GetAsync(() => Task.FromResult(ids.Count(handled.ContainsKey)), n => n == ids.Count, within ?? TimeSpan.FromSeconds(10), $"all {ids.Count} messages handled");
}

internal static class HashExtensions
{
    public static async Task<bool> HExistsAsync(this IRedisClient redis, string key, string field) =>
        (await redis.ExecuteAsync(new RedisCommand("HEXISTS", [key, field], 0))).AsInt64() == 1;
}
