using System.Collections.Concurrent;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;

namespace Millrace.Tests.Consuming;

/// <summary>Against the real 6-node Cluster.</summary>
public sealed class ClusterPartitionTests
{
    [Fact]
    public async Task A_partitioned_queue_keeps_per_key_order_and_uses_all_three_shards()
    {
        var byKey = new ConcurrentDictionary<string, ConcurrentQueue<int>>();
        var total = 0;
        var redis = await RedisTopology.ClusterOptionsAsync();
        await using var host = await TestHost.StartAsync(m => m
            .AddQueue("orders", q => q.Partitions = 6)
            .AddConsumer("orders", c => c.Concurrency = 1)   // one handler: delivery order is observable per partition
            .AddHandler("order.step", (context, _) =>
            {
                var step = int.Parse(context.Message.PayloadText, System.Globalization.CultureInfo.InvariantCulture);
                byKey.GetOrAdd(context.Message.Headers["key"], _ => new()).Enqueue(step);
                Interlocked.Increment(ref total);
                return Task.CompletedTask;
            }), redis: redis);

        var keys = Enumerable.Range(0, 20).Select(i => $"order-{i}").ToArray();
        for (var step = 0; step < 25; step++)
        {
            await host.Publisher.PublishBatchAsync(keys.Select(k => new OutgoingMessage
            {
                Queue = "orders",
                Type = "order.step",
                Payload = System.Text.Encoding.UTF8.GetBytes(step.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                PartitionKey = k,
                Headers = new Dictionary<string, string> { ["key"] = k },
            }).ToArray());
        }

        await Eventually.GetAsync(() => Task.FromResult(Volatile.Read(ref total)), n => n >= 500, TimeSpan.FromSeconds(20), "500 messages");

        Assert.All(keys, k => Assert.Equal(Enumerable.Range(0, 25), byKey[k]));
        var layout = new QueueKeys(host.Prefix, "orders", 6);
        var cluster = (Millrace.Redis.Topology.ClusterClient)host.Redis;
        var shards = await Task.WhenAll(layout.Streams.Select(s => cluster.EndpointOfSlotAsync(HashSlot.Of(s), CancellationToken.None)));
        var used = await Task.WhenAll(layout.Streams.Select(s => host.Redis.XLenAsync(s)));
        Assert.Equal(3, shards.Distinct().Count());
        Assert.All(used, length => Assert.True(length > 0, "every partition should have received messages"));
    }
}
