using System.Collections.Concurrent;
using System.Diagnostics;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Failures;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Flow;

/// <summary>
/// Distributed rate limits (token buckets in Redis): per type across worker processes, per tenant, and
/// changed at runtime. Rates are counted from the handlers' own start times over windows after a warm-up.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class RateLimitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Given_a_rate_limit_of_200_per_second_When_two_worker_processes_drain_a_backlog_for_10_seconds_Then_the_handled_rate_is_within_10_percent_of_200()
    {
        const int total = 3_000;   // 15 s at 200/s: the 10 s window after a 2 s warm-up never runs dry
        var run = new FlowRun();
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var workers = new List<WorkerProcess>();
        try
        {
            await using var control = await run.ControlHostAsync();
            var admin = control.Services.GetRequiredService<MillraceAdmin>();
            var limit = new RateLimit(RateLimitScope.Type, FlowRun.Type, 200, RateLimit.DefaultBurst(200));
            await admin.SetRateLimitAsync(limit);
            Assert.Equal([limit], await admin.RateLimitsAsync());

            workers.AddRange(await FlowKit.StartAllAsync(FlowRun.ProbeFlags(),
                ("worker A", run.Worker("a", TimeSpan.Zero)), ("worker B", run.Worker("b", TimeSpan.Zero))));
            var ids = await FlowRun.PublishAsync(control, total);

            var starts = await Eventually.GetAsync(() => run.StartsAsync(redis), s => s.Count > 0 && s.Max(x => x.Ms) >= s.Min(x => x.Ms) + 12_500,
                TimeSpan.FromSeconds(45), "12.5 s of handler starts");
            var first = starts.Min(s => s.Ms);
            var window = starts.Where(s => s.Ms >= first + 2_000 && s.Ms < first + 12_000).ToArray();
            var rate = window.Length / 10.0;
            var perWorker = window.GroupBy(s => s.Pid).Select(g => $"{workers.Single(w => w.Id == g.Key).Label} {g.Count()}");
            output.WriteLine($"rate limit 200/s (burst {limit.Burst}): {window.Length} handler starts in the 10 s after a 2 s warm-up = {rate:0.0}/s ({string.Join(", ", perWorker)}); " +
                $"first second: {starts.Count(s => s.Ms < first + 1_000)}");
            Assert.True(Math.Abs(rate - 200) <= 20, $"Expected 200 handled per second (±10%) over 10 s across two workers, but measured {rate:0.0}/s.{FlowKit.Outputs(workers)}");
            Assert.True(window.Select(s => s.Pid).Distinct().Count() == 2, "Expected both workers to share the rate.");

            // Lifted: the rest drains at full speed, and nothing was lost or handled twice.
            Assert.True(await admin.RemoveRateLimitAsync(RateLimitScope.Type, FlowRun.Type));
            Assert.Empty(await admin.RateLimitsAsync());
            var handled = await Eventually.GetAsync(() => run.HandledAsync(redis), h => h.Count >= total, TimeSpan.FromSeconds(60), $"all {total} messages handled");
            Assert.Equal(ids.Order(StringComparer.Ordinal), handled.Keys.Order(StringComparer.Ordinal));
            Assert.All(handled, h => Assert.Equal("1", h.Value));
        }
        finally
        {
            await FlowKit.StopAllAsync(workers);
            await run.CleanUpAsync(redis);
        }
    }

    [Fact]
    public async Task Given_a_rate_limit_of_100_per_second_When_it_is_changed_to_25_at_runtime_Then_the_new_rate_holds_from_a_second_later()
    {
        var starts = new ConcurrentQueue<long>();
        var done = 0;
        await using var host = await TestHost.StartAsync(m => m
            .AddConsumer("ticks", c => c.Concurrency = 8)
            .AddHandler("tick", (_, _) =>
            {
                starts.Enqueue(Stopwatch.GetTimestamp());
                Interlocked.Increment(ref done);
                return Task.CompletedTask;
            }));
        try
        {
            var admin = host.Services.GetRequiredService<MillraceAdmin>();
            await admin.SetRateLimitAsync(new RateLimit(RateLimitScope.Type, "tick", 100, RateLimit.DefaultBurst(100)));
            await Task.Delay(TimeSpan.FromSeconds(1));   // LimitsRefresh: the consumer learns that 'tick' has a limit
            await host.Publisher.PublishBatchAsync([.. Enumerable.Range(0, 800).Select(_ => new OutgoingMessage { Queue = "ticks", Type = "tick", Payload = "t"u8.ToArray() })]);

            await Eventually.GetAsync(() => Task.FromResult(Volatile.Read(ref done)), n => n >= 300, TimeSpan.FromSeconds(15), "300 ticks handled");
            await admin.SetRateLimitAsync(new RateLimit(RateLimitScope.Type, "tick", 25, RateLimit.DefaultBurst(25)));
            var changedAt = Stopwatch.GetTimestamp();
            Assert.Equal([new RateLimit(RateLimitScope.Type, "tick", 25, 3)], await admin.RateLimitsAsync());
            await Task.Delay(TimeSpan.FromSeconds(5));   // the observation window, not a synchronisation

            var all = starts.ToArray();
            var before = Rate(all, TimeSpan.Zero, TimeSpan.FromSeconds(2), changedAt, beforeIt: true);
            var after = Rate(all, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), changedAt, beforeIt: false);
            output.WriteLine($"rate before the change (last 2 s): {before:0.0}/s (limit 100); from 1 s to 5 s after it: {after:0.0}/s (limit 25)");

            // The limit is an upper bound; on a loaded machine the handlers may fall short of it, so the lower bound is only
            // "clearly more than the new limit allows" before the change, and "still flowing" after it.
            Assert.True(before <= 100 * 1.1, $"Expected at most 100/s (+10%) before the change, measured {before:0.0}/s.");
            Assert.True(before >= 25 * 2, $"Expected the old limit (100/s) in force before the change, well above the new one (25/s), but measured {before:0.0}/s.");
            Assert.True(after <= 25 * 1.15, $"Expected the new rate of 25/s (+15%) to hold from a second after the change, but measured {after:0.0}/s.");
            Assert.True(after > 0, "Expected messages still handled under the new limit.");

            Assert.True(await admin.RemoveRateLimitAsync(RateLimitScope.Type, "tick"));
            Assert.False(await admin.RemoveRateLimitAsync(RateLimitScope.Type, "tick"));
            await Eventually.GetAsync(() => Task.FromResult(Volatile.Read(ref done)), n => n == 800, TimeSpan.FromSeconds(20), "all 800 ticks handled once the limit is removed");
        }
        finally
        {
            await host.StopAsync();
            await FlowKit.DeleteKeysAsync(host.Redis, host.Prefix);
        }

        // Starts per second in [changedAt + from, changedAt + from + length), or, before it, [changedAt - length, changedAt).
        static double Rate(long[] starts, TimeSpan from, TimeSpan length, long changedAt, bool beforeIt)
        {
            var count = starts.Count(s =>
            {
                var offset = s >= changedAt ? Stopwatch.GetElapsedTime(changedAt, s) : -Stopwatch.GetElapsedTime(s, changedAt);
                return beforeIt ? offset >= -length && offset < TimeSpan.Zero : offset >= from && offset < from + length;
            });
            return count / length.TotalSeconds;
        }
    }

    [Fact]
    public async Task Given_a_tenant_rate_limit_When_its_backlog_waits_for_tokens_Then_only_that_tenants_messages_are_slowed()
    {
        const int slowCount = 40;
        const int otherCount = 200;
        var slowStarts = new ConcurrentQueue<long>();
        long slowDone = 0;
        long otherDone = 0;
        long slowDoneAtLastOther = -1;
        await using var host = await TestHost.StartAsync(m => m
            .AddConsumer("tenants", c => c.Concurrency = 8)
            .AddHandler("job", (context, _) =>
            {
                if (context.Message.Tenant == "slow")
                {
                    slowStarts.Enqueue(Stopwatch.GetTimestamp());
                    Interlocked.Increment(ref slowDone);
                }
                else if (Interlocked.Increment(ref otherDone) == otherCount)
                {
                    Interlocked.Exchange(ref slowDoneAtLastOther, Interlocked.Read(ref slowDone));
                }

                return Task.CompletedTask;
            }));
        try
        {
            var admin = host.Services.GetRequiredService<MillraceAdmin>();
            await admin.SetRateLimitAsync(new RateLimit(RateLimitScope.Tenant, "slow", 10, 1));
            Assert.Equal([new RateLimit(RateLimitScope.Tenant, "slow", 10, 1)], await admin.RateLimitsAsync());
            await Task.Delay(TimeSpan.FromSeconds(1));   // LimitsRefresh: the consumer learns that tenant 'slow' has a limit

            // The slow tenant's 40 first (4 s at 10/s), then 200 of another tenant and of none.
            await host.Publisher.PublishBatchAsync([.. Enumerable.Range(0, slowCount).Select(_ => new OutgoingMessage { Queue = "tenants", Type = "job", Tenant = "slow", Payload = "s"u8.ToArray() })]);
            await host.Publisher.PublishBatchAsync([.. Enumerable.Range(0, otherCount).Select(i => new OutgoingMessage { Queue = "tenants", Type = "job", Tenant = i % 2 == 0 ? "other" : null, Payload = "o"u8.ToArray() })]);

            await Eventually.GetAsync(() => Task.FromResult(Interlocked.Read(ref slowDone) + Interlocked.Read(ref otherDone)), n => n == slowCount + otherCount,
                TimeSpan.FromSeconds(40), $"all {slowCount + otherCount} messages handled");
            var times = slowStarts.Order().ToArray();
            var slowRate = (times.Length - 1) / Stopwatch.GetElapsedTime(times[0], times[^1]).TotalSeconds;
            output.WriteLine($"tenant 'slow' (10/s, burst 1): {slowRate:0.0}/s over its {times.Length} starts; when the last of the {otherCount} other messages ran, {slowDoneAtLastOther} slow ones were done");
            Assert.True(slowRate <= 10 * 1.15, $"Expected tenant 'slow' handled at no more than 10/s (+15%), measured {slowRate:0.0}/s.");
            Assert.True(slowDoneAtLastOther < slowCount / 2,
                $"Expected the other tenants' {otherCount} messages to be handled while tenant 'slow' waits for its tokens (a tenant limit applies to that tenant only), " +
                $"but {slowDoneAtLastOther} of {slowCount} slow ones were already done when the last other one ran: messages waiting for a token hold the consumer's handler slots.");
        }
        finally
        {
            await host.StopAsync();
            await FlowKit.DeleteKeysAsync(host.Redis, host.Prefix);
        }
    }

    [Fact]
    public async Task Given_an_invalid_rate_limit_When_it_is_set_Then_it_is_refused_with_a_clear_error_and_nothing_is_stored()
    {
        await using var host = await TestHost.StartAsync(m => m.AddQueue("q"));
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        var zero = await Assert.ThrowsAsync<ArgumentException>(() => admin.SetRateLimitAsync(new RateLimit(RateLimitScope.Type, "t", 0, 1)));
        Assert.Contains("'t'", zero.Message, StringComparison.Ordinal);
        var burst = await Assert.ThrowsAsync<ArgumentException>(() => admin.SetRateLimitAsync(new RateLimit(RateLimitScope.Tenant, "acme", 5, 0)));
        Assert.Contains("burst", burst.Message, StringComparison.OrdinalIgnoreCase);
        await Assert.ThrowsAsync<ArgumentException>(() => admin.SetRateLimitAsync(new RateLimit(RateLimitScope.Tenant, " ", 5, 1)));
        Assert.Empty(await admin.RateLimitsAsync());

        // Fractional rates survive the round trip through Redis.
        await admin.SetRateLimitAsync(new RateLimit(RateLimitScope.Tenant, "acme", 0.5, 1));
        Assert.Equal([new RateLimit(RateLimitScope.Tenant, "acme", 0.5, 1)], await admin.RateLimitsAsync());
        await FlowKit.DeleteKeysAsync(host.Redis, host.Prefix);
    }
}
