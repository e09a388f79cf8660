using System.Text;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;

namespace Millrace.Tests.Consuming;

[MessageType("order.created")]
public sealed record OrderCreated(int OrderId, string Customer);

public sealed class OrderHandler(Received received) : IMessageHandler<OrderCreated>
{
    public Task HandleAsync(OrderCreated message, MessageContext context, CancellationToken cancellationToken)
    {
        received.Add(context);
        return Task.CompletedTask;
    }
}

public sealed class PublishConsumeTests
{
    [Fact]
    public async Task A_typed_message_published_is_handled_once_with_its_envelope()
    {
        var received = new Received();
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.AddSingleton(received);
            m.AddConsumer("orders").AddHandler<OrderCreated, OrderHandler>();
        });

        var result = await host.Publisher.PublishAsync("orders", new OrderCreated(7, "ada"), new PublishOptions { Headers = new Dictionary<string, string> { ["source"] = "test" }, Priority = 3, Tenant = "acme" });
        await received.WaitForAsync(1);

        var context = Assert.Single(received.All);
        Assert.Equal(result.MessageId, context.Message.Id);
        Assert.Equal(result.StreamId, context.Message.StreamId);
        Assert.Equal("order.created", context.Message.Type);
        Assert.Equal(new OrderCreated(7, "ada"), context.Message.Read<OrderCreated>());
        Assert.Equal("test", context.Message.Headers["source"]);
        Assert.Equal((3, "acme"), (context.Message.Priority, context.Message.Tenant));
        Assert.False(context.Redelivered);
        var stream = new QueueKeys(host.Prefix, "orders", 1).Stream(0);
        await Eventually.GetAsync(() => host.Redis.XPendingSummaryAsync(stream, "workers"), p => p.Count == 0, TimeSpan.FromSeconds(5), "the message to be acknowledged");
    }

    [Fact]
    public async Task A_batch_is_published_in_order_and_every_message_handled()
    {
        var received = new Received();
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.AddSingleton(received);
            m.AddConsumer("orders", c => c.Concurrency = 1).AddHandler<OrderCreated, OrderHandler>();
        });

        var results = await host.Publisher.PublishBatchAsync("orders", Enumerable.Range(0, 500).Select(i => new OrderCreated(i, "c")));
        await received.WaitForAsync(500);

        Assert.Equal(500, results.Select(r => r.MessageId).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 500), received.All.Select(c => c.Message.Read<OrderCreated>()!.OrderId));
    }

    [Fact]
    public async Task Two_groups_on_one_queue_each_see_every_message()
    {
        var billing = new Received();
        var shipping = new Received();
        await using var host = await TestHost.StartAsync(m => m
            .AddConsumer("orders", c => c.Group = "billing")
            .AddConsumer("orders", c => c.Group = "shipping")
            .AddHandler("order.created", (context, _) =>
            {
                (context.Group == "billing" ? billing : shipping).Add(context);
                return Task.CompletedTask;
            }));

        await host.Publisher.PublishBatchAsync("orders", Enumerable.Range(0, 100).Select(i => new OrderCreated(i, "c")));
        await billing.WaitForAsync(100);
        await shipping.WaitForAsync(100);

        Assert.Equal(100, billing.All.Select(c => c.Message.Id).Distinct().Count());
        Assert.Equal(billing.All.Select(c => c.Message.Id).Order(), shipping.All.Select(c => c.Message.Id).Order());
    }

    [Fact]
    public async Task Start_positions_decide_what_a_new_group_sees()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        string middle;
        await using (var producer = await TestHost.StartAsync(_ => { }, prefix))
        {
            await producer.Publisher.PublishAsync("orders", new OrderCreated(1, "before"));
            middle = (await producer.Publisher.PublishAsync("orders", new OrderCreated(2, "before"))).StreamId!;
            await producer.Publisher.PublishAsync("orders", new OrderCreated(3, "before"));
        }

        var seen = new Dictionary<string, Received> { ["latest"] = new(), ["earliest"] = new(), ["from-id"] = new() };
        await using var host = await TestHost.StartAsync(m => m
            .AddConsumer("orders", c => { c.Group = "latest"; c.StartPosition = StartPosition.Latest; })
            .AddConsumer("orders", c => { c.Group = "earliest"; c.StartPosition = StartPosition.Earliest; })
            .AddConsumer("orders", c => { c.Group = "from-id"; c.StartPosition = StartPosition.Id; c.StartId = middle; })
            .AddHandler("order.created", (context, _) =>
            {
                seen[context.Group].Add(context);
                return Task.CompletedTask;
            }), prefix);
        await host.Publisher.PublishAsync("orders", new OrderCreated(4, "after"));

        await seen["latest"].WaitForAsync(1);
        await seen["earliest"].WaitForAsync(4);
        await seen["from-id"].WaitForAsync(2);
        int[] Ids(string group) => seen[group].All.Select(c => c.Message.Read<OrderCreated>()!.OrderId).Order().ToArray();
        Assert.Equal([4], Ids("latest"));
        Assert.Equal([1, 2, 3, 4], Ids("earliest"));
        Assert.Equal([3, 4], Ids("from-id"));
    }

    [Fact]
    public async Task A_dedup_key_publishes_once_and_returns_the_first_id_to_duplicates()
    {
        var received = new Received();
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.AddSingleton(received);
            m.AddQueue("orders", q => q.Partitions = 3).AddConsumer("orders").AddHandler<OrderCreated, OrderHandler>();
        });

        var first = await host.Publisher.PublishAsync("orders", new OrderCreated(1, "a"), new PublishOptions { DedupKey = "order-1" });
        var again = await host.Publisher.PublishAsync("orders", new OrderCreated(1, "a"), new PublishOptions { DedupKey = "order-1" });
        var batch = await host.Publisher.PublishBatchAsync(
        [
            new OutgoingMessage { Queue = "orders", Type = "order.created", Payload = Encoding.UTF8.GetBytes("{\"orderId\":1}"), DedupKey = "order-1" },
            new OutgoingMessage { Queue = "orders", Type = "order.created", Payload = Encoding.UTF8.GetBytes("{\"orderId\":2}"), DedupKey = "order-2" },
            new OutgoingMessage { Queue = "orders", Type = "order.created", Payload = Encoding.UTF8.GetBytes("{\"orderId\":2}"), DedupKey = "order-2" },
        ]);
        await received.WaitForAsync(2);

        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.MessageId, again.MessageId);
        Assert.Null(again.StreamId);
        Assert.Equal([true, false, true], batch.Select(r => r.Duplicate));
        Assert.Equal(batch[1].MessageId, batch[2].MessageId);
        var keys = new QueueKeys(host.Prefix, "orders", 3);
        var lengths = await Task.WhenAll(keys.Streams.Select(s => host.Redis.XLenAsync(s)));
        Assert.Equal(2, lengths.Sum());
        Assert.Equal(2, received.Count);
    }

    [Fact]
    public async Task A_dedup_key_is_forgotten_after_its_ttl()
    {
        await using var host = await TestHost.StartAsync(_ => { });
        var options = new PublishOptions { DedupKey = "short", DedupTtl = TimeSpan.FromMilliseconds(200) };

        var first = await host.Publisher.PublishAsync("orders", new OrderCreated(1, "a"), options);
        var later = await Eventually.GetAsync(() => host.Publisher.PublishAsync("orders", new OrderCreated(1, "a"), options), r => !r.Duplicate, TimeSpan.FromSeconds(5), "the dedup key to expire");

        Assert.NotEqual(first.MessageId, later.MessageId);
    }

    [Fact]
    public async Task Invalid_input_is_refused_with_a_clear_message_and_nothing_is_added()
    {
        await using var host = await TestHost.StartAsync(_ => { });

        var badQueue = await Assert.ThrowsAsync<ArgumentException>(() => host.Publisher.PublishAsync(new OutgoingMessage { Queue = "bad:name{x}", Type = "t" }));
        var noType = await Assert.ThrowsAsync<ArgumentException>(() => host.Publisher.PublishAsync(new OutgoingMessage { Queue = "orders", Type = " " }));

        Assert.Contains("not valid", badQueue.Message, StringComparison.Ordinal);
        Assert.Contains("no type", noType.Message, StringComparison.Ordinal);
        Assert.False(await host.Redis.ExistsAsync(new QueueKeys(host.Prefix, "orders", 1).Stream(0)));
    }
}
