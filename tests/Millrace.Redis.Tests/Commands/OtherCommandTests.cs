using System.Text;
using Millrace.Redis.Tests.Support;

namespace Millrace.Redis.Tests.Commands;

/// <summary>Strings, hashes, sorted sets, scripts, pub/sub and batches against the real server.</summary>
public sealed class OtherCommandTests
{
    public static TheoryData<RedisProtocol> Protocols => [RedisProtocol.Resp2, RedisProtocol.Resp3];

    [Fact]
    public async Task Set_NX_PX_sets_once_and_expires()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("dedup");

        var first = await redis.SetAsync(key, "id-1", TimeSpan.FromSeconds(30), onlyIfAbsent: true);
        var second = await redis.SetAsync(key, "id-2", TimeSpan.FromSeconds(30), onlyIfAbsent: true);
        var ttl = await redis.TimeToLiveAsync(key);

        Assert.True(first);
        Assert.False(second);
        Assert.Equal("id-1", await redis.GetStringAsync(key));
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Keys_can_be_counted_expired_and_deleted()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("counter");

        Assert.Equal(5, await redis.IncrementAsync(key, 5));
        Assert.Equal(6, await redis.IncrementAsync(key));
        Assert.True(await redis.ExpireAsync(key, TimeSpan.FromMinutes(1)));
        Assert.True(await redis.ExistsAsync(key));
        Assert.Equal(1, await redis.DelAsync([key]));
        Assert.False(await redis.ExistsAsync(key));
        Assert.Null(await redis.GetAsync(key));
        Assert.False(await redis.ExpireAsync(key, TimeSpan.FromMinutes(1)));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Hash_fields_are_set_read_incremented_and_deleted(RedisProtocol protocol)
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync(protocol);
        var key = TestKeys.Unique("task");

        var added = await redis.HSetAsync(key, [new("status", "pending"), new("attempts", 0)]);
        var attempts = await redis.HIncrementAsync(key, "attempts");
        var all = await redis.HGetAllAsync(key);
        var removed = await redis.HDelAsync(key, ["status"]);

        Assert.Equal(2, added);
        Assert.Equal(1, attempts);
        Assert.Equal("pending", all["status"]);
        Assert.Equal("1", all["attempts"]);
        Assert.Equal(1, removed);
        Assert.Null(await redis.HGetAsync(key, "status"));
        Assert.Equal(1, await redis.HLenAsync(key));
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Sorted_set_members_come_back_by_score(RedisProtocol protocol)
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync(protocol);
        var key = TestKeys.Unique("delayed");

        await redis.ZAddAsync(key, [new("late", 3000), new("soon", 1000), new("middle", 2000.5)]);
        var due = await redis.ZRangeByScoreAsync(key, double.NegativeInfinity, 2500);
        var firstOnly = await redis.ZRangeByScoreAsync(key, 0, double.PositiveInfinity, count: 1);
        var notAdded = await redis.ZAddAsync(key, [new("soon", 1)], onlyIfAbsent: true);

        Assert.Equal([new SortedSetEntry("soon", 1000), new SortedSetEntry("middle", 2000.5)], due);
        Assert.Equal("soon", Assert.Single(firstOnly).Member);
        Assert.Equal(0, notAdded);
        Assert.Equal(1000, await redis.ZScoreAsync(key, "soon"));
        Assert.Null(await redis.ZScoreAsync(key, "absent"));
        Assert.Equal(1, await redis.ZRemAsync(key, ["late"]));
        Assert.Equal(2, await redis.ZCardAsync(key));
    }

    [Fact]
    public async Task A_script_runs_by_EVALSHA_and_survives_SCRIPT_FLUSH()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("scripted");
        // A unique script body, so a SCRIPT FLUSH by another test cannot make this test pass by accident.
        var script = new RedisScript($"-- {Guid.NewGuid()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])");

        var first = await redis.EvalAsync(script, [key], [5]);
        await redis.ExecuteAsync(new RedisCommand("SCRIPT", ["FLUSH"]));
        var afterFlush = await redis.EvalAsync(script, [key], [2]);
        var cached = await redis.ExecuteAsync(new RedisCommand("SCRIPT", ["EXISTS", script.Sha1]));

        Assert.Equal(5, first.AsInt64());
        Assert.Equal(7, afterFlush.AsInt64());
        Assert.Equal(1, cached[0].AsInt64());
    }

    [Fact]
    public async Task Scripts_in_a_batch_are_reloaded_after_SCRIPT_FLUSH()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("scripted");
        var script = new RedisScript($"-- {Guid.NewGuid()}\nreturn redis.call('INCR', KEYS[1])");
        await redis.ExecuteAsync(new RedisCommand("SCRIPT", ["FLUSH"]));

        var replies = await redis.ExecuteBatchAsync([script.Command([key]), script.Command([key]), new RedisCommand("GET", [key], 0)]);

        Assert.Equal([1L, 2L], replies[..2].Select(r => r.AsInt64()));
        Assert.Equal("2", replies[2].AsString());
    }

    [Fact]
    public async Task A_script_error_is_reported_with_the_servers_message()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var script = new RedisScript("return redis.error_reply('BROKEN on purpose')");

        var error = await Assert.ThrowsAsync<RedisServerException>(() => redis.EvalAsync(script, []));

        Assert.Equal("BROKEN", error.ErrorCode);
    }

    [Fact]
    public async Task A_batch_returns_every_reply_in_order_with_errors_in_place()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("batch");
        var stream = TestKeys.Unique("stream");

        var replies = await redis.ExecuteBatchAsync(
        [
            KeyCommands.Set(key, "v"),
            new RedisCommand("GET", [key], 0),
            new RedisCommand("INCR", [key], 0),   // WRONGTYPE-ish: not an integer
            StreamCommands.XAdd(stream, [new StreamField("f", "1")]),
            StreamCommands.XLen(stream),
        ]);

        Assert.Equal("OK", replies[0].AsString());
        Assert.Equal("v", replies[1].AsString());
        Assert.True(replies[2].IsError, "INCR of a non-number should be an error reply in place");
        Assert.False(replies[3].IsError);
        Assert.Equal(1, replies[4].AsInt64());
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_subscriber_receives_what_is_published_until_it_unsubscribes(RedisProtocol protocol)
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync(protocol);
        var channel = TestKeys.Unique("wakeup");

        var subscription = await redis.SubscribeAsync(channel);
        var receivers = await redis.PublishAsync(channel, "hello");
        var message = await subscription.Messages.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        await subscription.DisposeAsync();
        var afterUnsubscribe = await Eventually.GetAsync(() => redis.PublishAsync(channel, "again"), n => n == 0, TimeSpan.FromSeconds(5), "no receivers after unsubscribing");

        Assert.Equal(1, receivers);
        Assert.Equal(channel, message.Channel);
        Assert.Equal("hello", Encoding.UTF8.GetString(message.Payload));
        Assert.Equal(0, afterUnsubscribe);
    }

    [Fact]
    public async Task Server_time_is_the_servers_clock_in_milliseconds()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();

        var serverMs = await redis.ServerTimeMillisecondsAsync();

        // Same machine: the server's clock and ours agree to well within a minute.
        Assert.InRange(serverMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 60_000);
    }

    [Fact]
    public async Task Select_switches_the_database()
    {
        var options = await RedisTopology.StandaloneOptionsAsync();
        options.Database = 3;
        await using var db3 = await RedisClient.ConnectAsync(options);
        await using var db0 = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("db");

        await db3.SetAsync(key, "in-3");

        Assert.Equal("in-3", await db3.GetStringAsync(key));
        Assert.Null(await db0.GetStringAsync(key));
    }
}
