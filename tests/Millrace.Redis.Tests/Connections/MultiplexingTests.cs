using System.Text;
using Millrace.Redis.Tests.Support;

namespace Millrace.Redis.Tests.Connections;

public sealed class MultiplexingTests
{
    [Fact]
    public async Task Sixty_four_concurrent_callers_each_get_their_own_reply()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        const int callers = 64;
        const int callsEach = 300;

        var mismatches = await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            var wrong = 0;
            for (var call = 0; call < callsEach; call++)
            {
                var mine = $"caller-{caller}-call-{call}";
                var reply = await redis.ExecuteAsync(new RedisCommand("ECHO", [mine]));
                wrong += reply.AsString() == mine ? 0 : 1;
            }

            return wrong;
        })));

        Assert.Equal(0, mismatches.Sum());
    }

    [Fact]
    public async Task Concurrent_batches_and_single_commands_do_not_interleave_their_replies()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(caller => Task.Run(async () =>
        {
            for (var round = 0; round < 50; round++)
            {
                var expected = Enumerable.Range(0, 8).Select(i => $"{caller}:{round}:{i}").ToArray();
                var replies = await redis.ExecuteBatchAsync(expected.Select(e => new RedisCommand("ECHO", [e])).ToArray());
                var single = await redis.ExecuteAsync(new RedisCommand("ECHO", [$"single {caller}:{round}"]));
                if (!replies.Select(r => r.AsString()).SequenceEqual(expected) || single.AsString() != $"single {caller}:{round}")
                {
                    return false;
                }
            }

            return true;
        })));

        Assert.All(results, Assert.True);
    }

    [Fact]
    public async Task A_blocked_XReadGroup_does_not_delay_ordinary_commands()
    {
        var options = await RedisTopology.StandaloneOptionsAsync();
        options.ClientName = $"blocked-{Guid.NewGuid():N}";
        await using var redis = await RedisClient.ConnectAsync(options);
        var key = TestKeys.Unique("stream");
        await redis.XGroupCreateAsync(key, "g", "$");

        var blocked = redis.XReadGroupAsync(key, "g", "c", block: TimeSpan.FromSeconds(10));
        await BlockedClients.WaitUntilBlockedAsync(redis, options.ClientName);
        for (var i = 0; i < 200; i++)
        {
            await redis.ExecuteAsync(new RedisCommand("PING", []));
        }

        // 200 round trips completed while the read is still parked on the server.
        Assert.False(blocked.IsCompleted, "the blocking read should still be waiting");
        await redis.XAddAsync(key, [new StreamField("f", "wake")]);
        Assert.Single(await blocked.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Several_blocked_reads_each_get_a_dedicated_connection()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var keys = Enumerable.Range(0, 4).Select(i => TestKeys.Unique($"s{i}")).ToArray();
        foreach (var key in keys)
        {
            await redis.XGroupCreateAsync(key, "g", "$");
        }

        var reads = keys.Select(key => redis.XReadGroupAsync(key, "g", "c", block: TimeSpan.FromSeconds(10))).ToArray();
        foreach (var key in keys.Reverse())
        {
            await redis.XAddAsync(key, [new StreamField("f", key)]);
        }

        var results = await Task.WhenAll(reads).WaitAsync(TimeSpan.FromSeconds(8));
        Assert.Equal(keys, results.Select(r => r.Single().GetString("f")));
    }

    [Fact]
    public async Task Cancelling_a_blocked_read_returns_at_once_and_the_next_read_works()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("stream");
        await redis.XGroupCreateAsync(key, "g", "$");
        using var cancel = new CancellationTokenSource();

        var blocked = redis.XReadGroupAsync(key, "g", "c", block: TimeSpan.FromSeconds(30), cancellationToken: cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(TimeSpan.FromSeconds(5)));

        await redis.XAddAsync(key, [new StreamField("f", "after")]);
        var next = await redis.XReadGroupAsync(key, "g", "c", block: TimeSpan.FromSeconds(5));
        Assert.Equal("after", Assert.Single(next).GetString("f"));
    }

    [Fact]
    public async Task A_large_value_crosses_many_reads_and_comes_back_intact()
    {
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var key = TestKeys.Unique("big");
        var value = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(value);

        await redis.SetAsync(key, value);
        var echoed = await redis.GetAsync(key);
        var small = await redis.ExecuteAsync(new RedisCommand("ECHO", ["after the big one"]));

        Assert.Equal(value, echoed);
        Assert.Equal("after the big one", Encoding.UTF8.GetString(small.AsBytes()!));
        await redis.DelAsync([key]);
    }
}

public sealed class LargeReplyTests
{
    [Fact]
    public async Task A_forty_thousand_entry_XRANGE_arriving_in_many_reads_is_read_whole()
    {
        await using var redis = await Support.RedisTopology.ConnectStandaloneAsync();
        var key = Support.TestKeys.Unique("big-stream");
        for (var batch = 0; batch < 40; batch++)
        {
            await redis.ExecuteBatchAsync(Enumerable.Range(0, 1000).Select(i => StreamCommands.XAdd(key, [new StreamField("n", $"{(batch * 1000) + i}")])).ToArray());
        }

        var entries = await redis.XRangeAsync(key);
        var after = await redis.ExecuteAsync(new RedisCommand("ECHO", ["still in step"]));

        Assert.Equal(40_000, entries.Count);
        Assert.Equal(Enumerable.Range(0, 40_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), entries.Select(e => e.GetString("n")));
        Assert.Equal("still in step", after.AsString());
        await redis.DelAsync([key]);
    }
}
