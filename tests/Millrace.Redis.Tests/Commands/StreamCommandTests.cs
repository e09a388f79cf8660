using Millrace.Redis.Tests.Support;

namespace Millrace.Redis.Tests.Commands;

/// <summary>Every stream helper against the real server, read the same under RESP2 and RESP3.</summary>
public sealed class StreamCommandTests
{
    public static TheoryData<RedisProtocol> Protocols => [RedisProtocol.Resp2, RedisProtocol.Resp3];

    private static StreamField[] Fields(string payload) => [new("type", "order.created"), new("payload", payload)];

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task XAdd_then_XRange_and_XRevRange_return_the_entries_in_order(RedisProtocol protocol)
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync(protocol);
        var key = TestKeys.Unique("stream");

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await redis.XAddAsync(key, Fields($"p{i}")))!);
        }

        var forward = await redis.XRangeAsync(key);
        var backward = await redis.XRevRangeAsync(key, count: 2);
        var middle = await redis.XRangeAsync(key, ids[1], ids[3]);

        Assert.Equal(ids, forward.Select(e => e.Id));
        Assert.Equal("p0", forward[0].GetString("payload"));
        Assert.Equal("order.created", forward[4].GetString("type"));
        Assert.Equal([ids[4], ids[3]], backward.Select(e => e.Id));
        Assert.Equal(ids[1..4], middle.Select(e => e.Id));
        Assert.Equal(5, await redis.XLenAsync(key));
    }

    [Fact]
    public async Task XAdd_with_an_explicit_id_and_binary_value_round_trips_bytes()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("stream");
        byte[] binary = [0, 13, 10, 255, 36, 42];

        var id = await redis.XAddAsync(key, [new StreamField("bin", binary)], id: "5-1");
        var entries = await redis.XRangeAsync(key);

        Assert.Equal("5-1", id);
        Assert.Equal(binary, entries[0].Get("bin")!.Value.ToArray());
    }

    [Fact]
    public async Task XAdd_with_NOMKSTREAM_on_a_missing_stream_adds_nothing()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("stream");

        var id = await redis.XAddAsync(key, Fields("x"), noMakeStream: true);

        Assert.Null(id);
        Assert.False(await redis.ExistsAsync(key));
    }

    [Fact]
    public async Task XAdd_with_an_exact_MAXLEN_keeps_the_newest_entries()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("stream");

        for (var i = 0; i < 10; i++)
        {
            await redis.XAddAsync(key, Fields($"p{i}"), maxLength: 3, approximate: false);
        }

        var entries = await redis.XRangeAsync(key);
        Assert.Equal(["p7", "p8", "p9"], entries.Select(e => e.GetString("payload")));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_group_reads_new_entries_acks_them_and_pending_shrinks(RedisProtocol protocol)
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync(protocol);
        var key = TestKeys.Unique("stream");
        Assert.True(await redis.XGroupCreateAsync(key, "workers", "0"));
        Assert.False(await redis.XGroupCreateAsync(key, "workers", "0"));   // BUSYGROUP is not an error
        var id1 = (await redis.XAddAsync(key, Fields("a")))!;
        var id2 = (await redis.XAddAsync(key, Fields("b")))!;

        var read = await redis.XReadGroupAsync(key, "workers", "c1", count: 10);
        var summary = await redis.XPendingSummaryAsync(key, "workers");
        var acked = await redis.XAckAsync(key, "workers", [id1]);
        var after = await redis.XPendingSummaryAsync(key, "workers");

        Assert.Equal([id1, id2], read.Select(e => e.Id));
        Assert.Equal(2, summary.Count);
        Assert.Equal(id1, summary.LowestId);
        Assert.Equal(id2, summary.HighestId);
        Assert.Equal(2, summary.Consumers["c1"]);
        Assert.Equal(1, acked);
        Assert.Equal(1, after.Count);
        Assert.Equal(id2, after.LowestId);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Reading_id_0_returns_the_consumers_own_pending_entries(RedisProtocol protocol)
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync(protocol);
        var key = TestKeys.Unique("stream");
        await redis.XGroupCreateAsync(key, "g", "0");
        var id = (await redis.XAddAsync(key, Fields("a")))!;
        await redis.XReadGroupAsync(key, "g", "c1");

        var own = await redis.XReadGroupAsync(key, "g", "c1", id: "0");
        var others = await redis.XReadGroupAsync(key, "g", "c2", id: "0");
        var nothingNew = await redis.XReadGroupAsync(key, "g", "c1");

        Assert.Equal([id], own.Select(e => e.Id));
        Assert.Empty(others);
        Assert.Empty(nothingNew);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task XReadGroup_on_several_streams_reports_each_stream(RedisProtocol protocol)
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync(protocol);
        var a = TestKeys.Unique("a");
        var b = TestKeys.Unique("b");
        await redis.XGroupCreateAsync(a, "g", "0");
        await redis.XGroupCreateAsync(b, "g", "0");
        await redis.XAddAsync(a, Fields("1"));
        await redis.XAddAsync(b, Fields("2"));
        await redis.XAddAsync(b, Fields("3"));

        var results = await redis.XReadGroupAsync("g", "c", [(a, ">"), (b, ">")]);

        Assert.Single(results.Single(r => r.Key == a).Entries);
        Assert.Equal(["2", "3"], results.Single(r => r.Key == b).Entries.Select(e => e.GetString("payload")));
    }

    [Fact]
    public async Task A_blocking_XReadGroup_returns_an_entry_added_while_it_waits()
    {
        var options = await RedisTopology.StandaloneOptionsAsync();
        options.ClientName = $"blocked-{Guid.NewGuid():N}";
        await using var redis = await RedisClient.ConnectAsync(options);
        var key = TestKeys.Unique("stream");
        await redis.XGroupCreateAsync(key, "g", "$");

        var reading = redis.XReadGroupAsync(key, "g", "c", block: TimeSpan.FromSeconds(5));
        await BlockedClients.WaitUntilBlockedAsync(redis, options.ClientName);
        var id = await redis.XAddAsync(key, Fields("late"));
        var entries = await reading.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal([id], entries.Select(e => e.Id));
    }

    [Fact]
    public async Task A_blocking_XReadGroup_that_times_out_returns_nothing()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("stream");
        await redis.XGroupCreateAsync(key, "g", "$");

        var entries = await redis.XReadGroupAsync(key, "g", "c", block: TimeSpan.FromMilliseconds(100));

        Assert.Empty(entries);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task XAutoClaim_takes_idle_entries_and_reports_deleted_ones(RedisProtocol protocol)
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync(protocol);
        var key = TestKeys.Unique("stream");
        await redis.XGroupCreateAsync(key, "g", "0");
        var kept = (await redis.XAddAsync(key, Fields("kept")))!;
        var deleted = (await redis.XAddAsync(key, Fields("deleted")))!;
        await redis.XReadGroupAsync(key, "g", "dead-worker");
        await redis.XDelAsync(key, [deleted]);

        var claim = await redis.XAutoClaimAsync(key, "g", "rescuer", TimeSpan.Zero);
        var pending = await redis.XPendingAsync(key, "g", 10);

        Assert.Equal("0-0", claim.NextId);
        Assert.Equal([kept], claim.Entries.Select(e => e.Id));
        Assert.Equal([deleted], claim.DeletedIds);
        var row = Assert.Single(pending);
        Assert.Equal("rescuer", row.Consumer);
        Assert.Equal(2, row.DeliveryCount);
    }

    [Fact]
    public async Task XAutoClaim_leaves_entries_younger_than_the_idle_time()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("stream");
        await redis.XGroupCreateAsync(key, "g", "0");
        await redis.XAddAsync(key, Fields("fresh"));
        await redis.XReadGroupAsync(key, "g", "owner");

        var claim = await redis.XAutoClaimAsync(key, "g", "thief", TimeSpan.FromMinutes(1));

        Assert.Empty(claim.Entries);
        Assert.Equal("owner", (await redis.XPendingAsync(key, "g", 10)).Single().Consumer);
    }

    [Fact]
    public async Task XClaim_JUSTID_by_the_owner_resets_idle_time_as_a_lease_extension()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("stream");
        await redis.XGroupCreateAsync(key, "g", "0");
        var id = (await redis.XAddAsync(key, Fields("x")))!;
        await redis.XReadGroupAsync(key, "g", "owner");
        await Eventually.GetAsync(async () => (await redis.XPendingAsync(key, "g", 1)).Single().Idle, idle => idle >= TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), "the entry to be idle 200 ms");

        var claimed = await redis.XClaimIdsAsync(key, "g", "owner", TimeSpan.Zero, [id]);
        var row = (await redis.XPendingAsync(key, "g", 1)).Single();

        Assert.Equal([id], claimed);
        Assert.True(row.Idle < TimeSpan.FromMilliseconds(200), $"expected the idle time to restart after XCLAIM, was {row.Idle}");
        Assert.Equal(1, row.DeliveryCount);   // JUSTID does not count a delivery
    }

    [Fact]
    public async Task XPending_extended_filters_by_idle_time_and_consumer()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("stream");
        await redis.XGroupCreateAsync(key, "g", "0");
        await redis.XAddAsync(key, Fields("1"));
        await redis.XAddAsync(key, Fields("2"));
        await redis.XReadGroupAsync(key, "g", "c1", count: 1);
        await redis.XReadGroupAsync(key, "g", "c2", count: 1);

        var ofC2 = await redis.XPendingAsync(key, "g", 10, consumer: "c2");
        var idleAnHour = await redis.XPendingAsync(key, "g", 10, minIdle: TimeSpan.FromHours(1));

        Assert.Equal("c2", Assert.Single(ofC2).Consumer);
        Assert.Empty(idleAnHour);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task XInfo_reports_stream_groups_and_consumers(RedisProtocol protocol)
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync(protocol);
        var key = TestKeys.Unique("stream");
        await redis.XGroupCreateAsync(key, "g", "0");
        var first = (await redis.XAddAsync(key, Fields("1")))!;
        var last = (await redis.XAddAsync(key, Fields("2")))!;
        await redis.XAddAsync(key, Fields("3"));
        await redis.XDelAsync(key, [(await redis.XRangeAsync(key))[2].Id]);
        await redis.XReadGroupAsync(key, "g", "c1", count: 1);

        var stream = await redis.XInfoStreamAsync(key);
        var groups = await redis.XInfoGroupsAsync(key);
        var consumers = await redis.XInfoConsumersAsync(key, "g");

        Assert.Equal(2, stream.Length);
        Assert.Equal(3, stream.EntriesAdded);
        Assert.Equal(1, stream.Groups);
        Assert.Equal(first, stream.FirstEntry!.Id);
        Assert.Equal(last, stream.LastEntry!.Id);
        var group = Assert.Single(groups);
        Assert.Equal(("g", 1L, 1L, first), (group.Name, group.Consumers, group.Pending, group.LastDeliveredId));
        var consumer = Assert.Single(consumers);
        Assert.Equal(("c1", 1L), (consumer.Name, consumer.Pending));
    }

    [Fact]
    public async Task XGroup_SetId_DelConsumer_and_Destroy_change_the_group()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("stream");
        await redis.XGroupCreateAsync(key, "g", "0");
        await redis.XAddAsync(key, Fields("1"));
        await redis.XReadGroupAsync(key, "g", "c1");

        var discarded = await redis.XGroupDelConsumerAsync(key, "g", "c1");
        await redis.XGroupSetIdAsync(key, "g", "0");
        var reread = await redis.XReadGroupAsync(key, "g", "c2");
        var destroyed = await redis.XGroupDestroyAsync(key, "g");
        var again = await redis.XGroupDestroyAsync(key, "g");

        Assert.Equal(1, discarded);
        Assert.Single(reread);
        Assert.True(destroyed);
        Assert.False(again);
    }

    [Fact]
    public async Task Reading_a_missing_group_fails_with_NOGROUP()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("stream");
        await redis.XAddAsync(key, Fields("1"));

        var error = await Assert.ThrowsAsync<RedisServerException>(() => redis.XReadGroupAsync(key, "nope", "c"));

        Assert.Equal("NOGROUP", error.ErrorCode);
        Assert.Contains("XREADGROUP", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task XTrim_by_MINID_and_MAXLEN_remove_the_oldest_entries()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("stream");
        for (var i = 1; i <= 10; i++)
        {
            await redis.XAddAsync(key, Fields($"{i}"), id: $"{i}-0");
        }

        var byMinId = await redis.XTrimMinIdAsync(key, "4-0");
        var byLength = await redis.XTrimMaxLengthAsync(key, 5);
        var left = await redis.XRangeAsync(key);

        Assert.Equal(3, byMinId);
        Assert.Equal(2, byLength);
        Assert.Equal(["6-0", "7-0", "8-0", "9-0", "10-0"], left.Select(e => e.Id));
    }
}
