using Millrace.Redis.Tests.Support;

namespace Millrace.Redis.Tests.Connections;

public sealed class ReconnectTests
{
    [Fact]
    public async Task A_Redis_restart_mid_traffic_fails_in_flight_commands_fast_and_the_client_recovers()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var options = new RedisOptions { CommandTimeout = TimeSpan.FromSeconds(5), MaxReconnectBackoff = TimeSpan.FromMilliseconds(200) };
        options.Endpoints.Add(server.Endpoint);
        await using var redis = await RedisClient.ConnectAsync(options);
        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        long succeeded = 0;

        // Eight callers keep commands in flight the whole time.
        var traffic = Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    // Each call must finish (either way) well inside the command timeout: no hang on a dead socket.
                    await redis.IncrementAsync($"counter:{caller}").WaitAsync(TimeSpan.FromSeconds(3));
                    Interlocked.Increment(ref succeeded);
                }
                catch (RedisConnectionException e)
                {
                    failures.Add(e);
                    await Task.Delay(10);
                }
            }
        })).ToArray();

        await Eventually.GetAsync(() => Task.FromResult(Interlocked.Read(ref succeeded)), n => n > 1000, TimeSpan.FromSeconds(10), "traffic to flow");
        await server.KillAsync();
        await Eventually.GetAsync(() => Task.FromResult(failures.Count), n => n > 0, TimeSpan.FromSeconds(3), "in-flight commands to fail once the server is gone");
        await server.StartAgainAsync();
        var before = Interlocked.Read(ref succeeded);
        await Eventually.GetAsync(() => Task.FromResult(Interlocked.Read(ref succeeded)), n => n > before + 1000, TimeSpan.FromSeconds(10), "traffic to flow again on the same client");
        await stop.CancelAsync();
        await Task.WhenAll(traffic);   // a TimeoutException from WaitAsync above (a hang) would surface here

        Assert.All(failures, e => Assert.Contains(server.Endpoint.ToString(), e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Commands_while_Redis_is_down_fail_at_once_naming_the_server()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var options = new RedisOptions();
        options.Endpoints.Add(server.Endpoint);
        await using var redis = await RedisClient.ConnectAsync(options);
        await server.KillAsync();

        var first = await Assert.ThrowsAnyAsync<RedisConnectionException>(() => redis.PingAsync().WaitAsync(TimeSpan.FromSeconds(5)));
        var second = await Assert.ThrowsAnyAsync<RedisConnectionException>(() => redis.PingAsync().WaitAsync(TimeSpan.FromSeconds(5)));

        Assert.Contains(server.Endpoint.ToString(), first.Message, StringComparison.Ordinal);
        Assert.Contains(server.Endpoint.ToString(), second.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Blocking_reads_recover_after_a_restart()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var options = new RedisOptions { MaxReconnectBackoff = TimeSpan.FromMilliseconds(200) };
        options.Endpoints.Add(server.Endpoint);
        await using var redis = await RedisClient.ConnectAsync(options);
        await redis.XGroupCreateAsync("s", "g", "$");

        var blocked = redis.XReadGroupAsync("s", "g", "c", block: TimeSpan.FromSeconds(30));
        await server.KillAsync();
        await Assert.ThrowsAnyAsync<RedisConnectionException>(() => blocked.WaitAsync(TimeSpan.FromSeconds(5)));
        await server.StartAgainAsync();

        await Eventually.GetAsync(() => redis.XGroupCreateAsync("s", "g", "$"), created => created, TimeSpan.FromSeconds(10), "the group to be created again on the restarted server");
        await redis.XAddAsync("s", [new StreamField("f", "1")]);
        var read = await redis.XReadGroupAsync("s", "g", "c", block: TimeSpan.FromSeconds(2));
        Assert.Single(read);
    }

    [Fact]
    public async Task A_script_is_reloaded_transparently_after_a_restart()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var options = new RedisOptions { MaxReconnectBackoff = TimeSpan.FromMilliseconds(200) };
        options.Endpoints.Add(server.Endpoint);
        await using var redis = await RedisClient.ConnectAsync(options);
        var script = new RedisScript("return redis.call('INCR', KEYS[1])");
        Assert.Equal(1, (await redis.EvalAsync(script, ["k"])).AsInt64());

        await server.KillAsync();
        await server.StartAgainAsync();
        var reply = await Eventually.GetAsync(() => redis.EvalAsync(script, ["k"]), _ => true, TimeSpan.FromSeconds(10), "the script to run on the restarted server");

        Assert.Equal(1, reply.AsInt64());   // a fresh server: the counter starts again, the script was resent
    }
}
