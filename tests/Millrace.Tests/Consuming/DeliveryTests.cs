using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;

namespace Millrace.Tests.Consuming;

public sealed class DeliveryTests
{
    [Fact]
    public async Task A_failed_message_comes_back_as_its_next_attempt_after_the_backoff()
    {
        var seen = new ConcurrentQueue<MessageContext>();
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { InitialDelay = TimeSpan.FromMilliseconds(300), Jitter = 0 });
            m.AddConsumer("jobs").AddHandler("job", (context, _) =>
            {
                seen.Enqueue(context);
                return seen.Count == 1 ? throw new InvalidOperationException("first attempt fails on purpose") : Task.CompletedTask;
            });
        });

        await host.Publisher.PublishAsync(new OutgoingMessage { Queue = "jobs", Type = "job", Payload = "x"u8.ToArray() });
        await Eventually.GetAsync(() => Task.FromResult(seen.Count), n => n >= 2, TimeSpan.FromSeconds(10), "a second attempt");

        var attempts = seen.ToArray();
        Assert.Equal(attempts[0].Message.Id, attempts[1].Message.Id);
        Assert.Equal((1, 2), (attempts[0].Message.Attempt, attempts[1].Message.Attempt));
        Assert.NotNull(attempts[1].Message.FirstFailedAt);
        Assert.True(attempts[1].Message.EnqueuedAt - attempts[0].Message.EnqueuedAt >= TimeSpan.FromMilliseconds(300),
            "the retry should enter the stream no earlier than its backoff after the first attempt");
    }

    [Fact]
    public async Task A_consumer_with_a_stable_name_finishes_its_own_pending_messages_first_at_start()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        var keys = new QueueKeys(prefix, "jobs", 1);
        await using (var producer = await TestHost.StartAsync(_ => { }, prefix))
        {
            // A previous run of "worker-a" read two messages and died before acknowledging them.
            await producer.Redis.XGroupCreateAsync(keys.Stream(0), "workers", "0");
            await producer.Publisher.PublishBatchAsync([Job("1"), Job("2")]);
            await producer.Redis.XReadGroupAsync(keys.Stream(0), "workers", "worker-a", count: 2);
            await producer.Publisher.PublishAsync(Job("3"));
        }

        var order = new ConcurrentQueue<(string Payload, bool Redelivered)>();
        await using var host = await TestHost.StartAsync(m => m
            .AddConsumer("jobs", c => { c.ConsumerName = "worker-a"; c.Concurrency = 1; c.VisibilityTimeout = TimeSpan.FromMinutes(5); })
            .AddHandler("job", (context, _) =>
            {
                order.Enqueue((context.Message.PayloadText, context.Redelivered));
                return Task.CompletedTask;
            }), prefix);
        await Eventually.GetAsync(() => Task.FromResult(order.Count), n => n >= 3, TimeSpan.FromSeconds(10), "three messages");

        Assert.Equal([("1", true), ("2", true), ("3", false)], order.ToArray());

        static OutgoingMessage Job(string payload) => new() { Queue = "jobs", Type = "job", Payload = System.Text.Encoding.UTF8.GetBytes(payload) };
    }

    [Fact]
    public async Task Idempotent_effects_apply_once_however_often_a_message_is_handled()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var tag = "{acct:" + Guid.NewGuid().ToString("N") + "}";
        RedisCommand[] effects =
        [
            new("INCRBY", [tag + ":balance", 100], 0),
            new("RPUSH", [tag + ":history", "deposit"], 0),
        ];

        var first = await IdempotentEffects.ApplyOnceAsync(redis, "message-1", effects);
        var second = await IdempotentEffects.ApplyOnceAsync(redis, "message-1", effects);
        var other = await IdempotentEffects.ApplyOnceAsync(redis, "message-2", effects);

        Assert.Equal((true, false, true), (first, second, other));
        Assert.Equal("200", await redis.GetStringAsync(tag + ":balance"));
        Assert.Equal(2, (await redis.ExecuteAsync(new RedisCommand("LLEN", [tag + ":history"], 0))).AsInt64());
    }

    [Fact]
    public async Task The_length_cap_trims_only_what_every_group_has_acknowledged()
    {
        var handled = new Received();
        var prefix = $"t{Guid.NewGuid():N}";
        var keys = new QueueKeys(prefix, "capped", 1);
        await using var host = await TestHost.StartAsync(m => m
            .AddQueue("capped", q => q.MaxLength = 100)
            .AddConsumer("capped", c => c.Group = "fast")
            .AddHandler("tick", (context, _) =>
            {
                handled.Add(context);
                return Task.CompletedTask;
            }), prefix);
        // A second group that never reads: it needs every entry from its start.
        await host.Redis.XGroupCreateAsync(keys.Stream(0), "slow", "0");

        for (var round = 0; round < 5; round++)
        {
            await host.Publisher.PublishBatchAsync(Enumerable.Range(0, 200).Select(i => new OutgoingMessage { Queue = "capped", Type = "tick", Payload = new byte[10] }).ToArray());
            await Task.Delay(1100);   // the cap is checked at most once a second, during publishes (not a synchronisation)
        }

        await handled.WaitForAsync(1000);
        Assert.Equal(1000, await host.Redis.XLenAsync(keys.Stream(0)));   // nothing trimmed: "slow" has acknowledged nothing

        await host.Redis.XGroupDestroyAsync(keys.Stream(0), "slow");
        await Task.Delay(1100);
        await host.Publisher.PublishAsync(new OutgoingMessage { Queue = "capped", Type = "tick", Payload = new byte[10] });
        await handled.WaitForAsync(1001);
        var length = await host.Redis.XLenAsync(keys.Stream(0));
        Assert.InRange(length, 100, 300);   // approximate: whole nodes of about 100 entries are removed
    }

    [Fact]
    public async Task Counters_move_and_trace_context_travels_from_publish_to_handler()
    {
        var measurements = new ConcurrentDictionary<string, long>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MillraceTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, _, _) => measurements.AddOrUpdate(instrument.Name, value, (_, v) => v + value));
        meters.Start();
        var activities = new ConcurrentQueue<Activity>();
        using var tracing = new ActivityListener
        {
            ShouldListenTo = s => s.Name == MillraceTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(tracing);
        var received = new Received();
        var queue = $"traced{Guid.NewGuid():N}";
        await using var host = await TestHost.StartAsync(m => m.AddConsumer(queue).AddHandler("t", (context, _) =>
        {
            received.Add(context);
            return Task.CompletedTask;
        }));

        await host.Publisher.PublishAsync(new OutgoingMessage { Queue = queue, Type = "t", Payload = "x"u8.ToArray() });
        await received.WaitForAsync(1);
        await Eventually.GetAsync(() => Task.FromResult(activities.Count(a => a.OperationName == $"process {queue}")), n => n == 1, TimeSpan.FromSeconds(5), "the process activity to end");

        var publish = activities.Single(a => a.OperationName == $"publish {queue}");
        var process = activities.Single(a => a.OperationName == $"process {queue}");
        Assert.Equal(publish.TraceId, process.TraceId);
        Assert.Equal(publish.SpanId, process.ParentSpanId);
        Assert.True(received.All[0].Message.Headers.ContainsKey("traceparent"));
        Assert.True(measurements.GetValueOrDefault("millrace.messages.published") >= 1);
        Assert.True(measurements.GetValueOrDefault("millrace.messages.processed") >= 1);
    }

    [Fact]
    public async Task Invalid_options_stop_the_host_at_start_with_messages_naming_each_setting()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => TestHost.StartAsync(m => m
            .AddQueue("orders", q => q.Partitions = 0)
            .AddConsumer("orders", c => { c.Concurrency = 0; c.VisibilityTimeout = TimeSpan.FromMilliseconds(10); c.StartPosition = StartPosition.Id; })));

        Assert.Contains("Partitions is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("Concurrency is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("VisibilityTimeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("StartId is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_Redis_stops_the_host_at_start_naming_the_address()
    {
        var redis = new RedisOptions { ConnectTimeout = TimeSpan.FromSeconds(1) };
        redis.Endpoints.Add(new RedisEndpoint("127.0.0.1", 1));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestHost.StartAsync(m => m.AddConsumer("orders"), redis: redis));

        Assert.Contains("Millrace cannot start", error.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Producers_and_consumers_that_disagree_on_partitions_are_stopped_at_start()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        await using (await TestHost.StartAsync(m => m.AddQueue("orders", q => q.Partitions = 2).AddConsumer("orders"), prefix))
        {
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestHost.StartAsync(m => m.AddQueue("orders", q => q.Partitions = 3).AddConsumer("orders"), prefix));

        Assert.Contains("has 2 partitions in Redis", error.Message, StringComparison.Ordinal);
    }
}

public sealed class WireFormatTests
{
    [Fact]
    public async Task An_entry_added_by_a_plain_XADD_with_only_type_and_payload_is_handled()
    {
        var received = new Received();
        await using var host = await TestHost.StartAsync(m => m.AddConsumer("orders").AddHandler("order.created", (context, _) =>
        {
            received.Add(context);
            return Task.CompletedTask;
        }));
        var stream = $"{host.Prefix}:{{orders:0}}:stream";   // the documented key, spelled out as another language would

        var id = await host.Redis.XAddAsync(stream, [new StreamField("type", "order.created"), new StreamField("payload", "{\"orderId\":43}")]);
        await received.WaitForAsync(1);

        var message = Assert.Single(received.All).Message;
        Assert.Equal(id, message.Id);   // no task_id: the entry id stands in
        Assert.Equal(id, message.StreamId);
        Assert.Equal("{\"orderId\":43}", message.PayloadText);
        Assert.Equal(message.EnqueuedAt, message.CreatedAt);
    }
}
