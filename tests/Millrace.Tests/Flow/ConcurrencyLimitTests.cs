using System.Diagnostics;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Failures;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Flow;

/// <summary>
/// Per-type concurrency limits across real worker processes (tests/Millrace.TestWorker). What runs at
/// once is observed from inside the handlers: each start adds 1 to its process's field in Redis, sums
/// every process's field and raises a max, atomically (FlowRun); each end subtracts 1.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class ConcurrencyLimitTests(ITestOutputHelper output)
{
    private static readonly TimeSpan LeaseTime = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Given_a_limit_of_5_across_three_worker_processes_When_they_drain_a_backlog_Then_never_more_than_5_handlers_run_at_once_and_5_do()
    {
        const int total = 150;
        var run = new FlowRun();
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var workers = new List<WorkerProcess>();
        try
        {
            await using var control = await run.ControlHostAsync();
            var admin = control.Services.GetRequiredService<MillraceAdmin>();
            await admin.SetConcurrencyLimitAsync(FlowRun.Type, 5);
            Assert.Equal(new Dictionary<string, int> { [FlowRun.Type] = 5 }, await admin.ConcurrencyLimitsAsync());

            // Each worker alone could run 20 at once.
            var delay = TimeSpan.FromMilliseconds(150);
            workers.AddRange(await FlowKit.StartAllAsync(FlowRun.ProbeFlags(LeaseTime),
                ("worker A", run.Worker("a", delay)), ("worker B", run.Worker("b", delay)), ("worker C", run.Worker("c", delay))));
            var started = Stopwatch.GetTimestamp();
            var ids = await FlowRun.PublishAsync(control, total);

            var handled = await Eventually.GetAsync(() => run.HandledAsync(redis), h => h.Count >= total, TimeSpan.FromSeconds(60), $"all {total} messages handled");
            var elapsed = Stopwatch.GetElapsedTime(started);
            var max = await run.MaxAsync(redis);
            var starts = await run.StartsAsync(redis);
            output.WriteLine($"max in flight observed by the handlers: {max} (limit 5); {total} handled in {elapsed.TotalSeconds:0.0} s " +
                $"({total * delay.TotalSeconds / elapsed.TotalSeconds:0.0} in flight on average); starts per worker: " +
                string.Join(", ", starts.GroupBy(s => s.Pid).Select(g => $"{workers.Single(w => w.Id == g.Key).Label} {g.Count()}")));

            Assert.True(max <= 5, $"Expected at most 5 handlers of '{FlowRun.Type}' running at once over the three workers, but the handlers saw {max}.{FlowKit.Outputs(workers)}");
            Assert.True(max == 5, $"Expected the limit of 5 to be reached (each worker may run 20 at once and {total} messages wait), but at most {max} ran at once.{FlowKit.Outputs(workers)}");
            Assert.True(starts.GroupBy(s => s.Pid).Count() == 3, "Expected all three workers to take permits.");
            Assert.Equal(ids.Order(StringComparer.Ordinal), handled.Keys.Order(StringComparer.Ordinal));
            Assert.All(handled, h => Assert.Equal("1", h.Value));
            await Eventually.GetAsync(() => admin.ConcurrencyInUseAsync(FlowRun.Type), n => n == 0, TimeSpan.FromSeconds(5), "every permit given back once the handlers are done (ConcurrencyInUseAsync 0)");
        }
        finally
        {
            await FlowKit.StopAllAsync(workers);
            await run.CleanUpAsync(redis);
        }
    }

    [Fact]
    public async Task Given_a_worker_holding_every_permit_When_it_is_SIGKILLed_Then_its_leases_come_back_within_the_lease_time_and_5_run_again()
    {
        const int backlog = 60;
        var run = new FlowRun();
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var workers = new List<WorkerProcess>();
        try
        {
            await using var control = await run.ControlHostAsync();
            var admin = control.Services.GetRequiredService<MillraceAdmin>();
            await admin.SetConcurrencyLimitAsync(FlowRun.Type, 5);

            // C's handlers outlive the test: it takes all 5 permits and keeps renewing them until it is killed.
            var holder = await WorkerProcess.StartAsync("worker C", run.Worker("c", TimeSpan.FromMinutes(10)), FlowRun.ProbeFlags(LeaseTime));
            workers.Add(holder);
            var held = await FlowRun.PublishAsync(control, 5);
            await Eventually.GetAsync(() => run.InFlightOfAsync(redis, holder.Id), n => n == 5, TimeSpan.FromSeconds(15), "worker C running 5 handlers");
            Assert.Equal(5, await admin.ConcurrencyInUseAsync(FlowRun.Type));

            // A and B fetch the backlog and wait for permits, for longer than a lease lasts: C's renewals keep them out.
            // Their visibility timeout (15 s, which also reclaims C's 5 after the kill) outlasts the wait: messages fetched
            // but not yet started are not renewed (see Given_messages_waiting_for_a_permit_longer_than_the_visibility_timeout...).
            var delay = TimeSpan.FromMilliseconds(150);
            workers.AddRange(await FlowKit.StartAllAsync(FlowRun.ProbeFlags(LeaseTime),
                ("worker A", run.Worker("a", delay) with { Visibility = TimeSpan.FromSeconds(15) }),
                ("worker B", run.Worker("b", delay) with { Visibility = TimeSpan.FromSeconds(15) })));
            var rest = await FlowRun.PublishAsync(control, backlog);
            await Eventually.GetAsync(() => redis.XPendingSummaryAsync(run.Keys.Stream(0), "workers"),
                p => p.Consumers.GetValueOrDefault("a") > 0 && p.Consumers.GetValueOrDefault("b") > 0, TimeSpan.FromSeconds(15), "workers A and B holding messages that wait for a permit");
            await Task.Delay(LeaseTime + TimeSpan.FromSeconds(1));   // an observation window longer than a lease: renewals must hold it
            Assert.True((await run.StartsAsync(redis)).All(s => s.Pid == holder.Id),
                $"Expected no handler to start in A or B while C, alive, held all 5 permits (renewed every {LeaseTime.TotalSeconds / 3:0.#} s).{FlowKit.Outputs(workers)}");
            Assert.Equal(5, await admin.ConcurrencyInUseAsync(FlowRun.Type));

            var killedAtMs = await FlowKit.ServerMsAsync(redis);
            var killedAt = Stopwatch.GetTimestamp();
            holder.Kill();
            await holder.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await run.ForgetAsync(redis, holder.Id);   // its handlers died with it
            await run.ResetMaxAsync(redis);

            await Eventually.GetAsync(() => run.LeasesAsync(redis), l => !l.Any(x => x.Lease.StartsWith("c:", StringComparison.Ordinal)),
                LeaseTime + TimeSpan.FromSeconds(5), "worker C's leases gone from the semaphore");
            var leasesGone = Stopwatch.GetElapsedTime(killedAt);
            var firstAfter = await Eventually.GetAsync(async () => (await run.StartsAsync(redis)).Where(s => s.Pid != holder.Id).ToArray(),
                s => s.Length > 0, TimeSpan.FromSeconds(10), "a handler starting in A or B after the kill");
            var returnMs = firstAfter.Min(s => s.Ms) - killedAtMs;
            var resumedMax = await Eventually.GetAsync(() => run.MaxAsync(redis), m => m >= 5, TimeSpan.FromSeconds(15), "5 handlers running at once again in A and B");
            output.WriteLine($"after the SIGKILL: C's leases gone from the semaphore after {leasesGone.TotalMilliseconds:0} ms (polled), " +
                $"first handler start in A/B {returnMs} ms after the kill (server clock), lease time {LeaseTime.TotalMilliseconds:0} ms; max in flight afterwards {resumedMax}");
            Assert.True(returnMs <= LeaseTime.TotalMilliseconds + 500,
                $"Expected the killed worker's permits back within the lease time ({LeaseTime.TotalMilliseconds:0} ms, +500 ms grace), but the first handler started {returnMs} ms after the kill.");

            var all = held.Concat(rest).ToArray();
            var handled = await Eventually.GetAsync(() => run.HandledAsync(redis), h => h.Count >= all.Length, TimeSpan.FromSeconds(60), $"all {all.Length} messages handled (C's 5 reclaimed 15 s after the kill)");
            Assert.Equal(all.Order(StringComparer.Ordinal), handled.Keys.Order(StringComparer.Ordinal));
            Assert.All(handled, h => Assert.Equal("1", h.Value));
            var maxAfter = await run.MaxAsync(redis);
            Assert.True(maxAfter <= 5, $"Expected at most 5 in flight after the kill too, but the handlers saw {maxAfter}.{FlowKit.Outputs(workers)}");
            await Eventually.GetAsync(() => admin.ConcurrencyInUseAsync(FlowRun.Type), n => n == 0, TimeSpan.FromSeconds(5), "no permit left held once everything is handled");
        }
        finally
        {
            await FlowKit.StopAllAsync(workers);
            await run.CleanUpAsync(redis);
        }
    }

    [Fact]
    public async Task Given_three_workers_at_a_limit_of_5_When_the_limit_changes_to_2_at_runtime_Then_within_a_second_at_most_2_run_and_removing_it_lifts_it()
    {
        const int total = 300;
        var run = new FlowRun();
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var workers = new List<WorkerProcess>();
        var delay = TimeSpan.FromMilliseconds(200);
        try
        {
            await using var control = await run.ControlHostAsync();
            var admin = control.Services.GetRequiredService<MillraceAdmin>();
            await admin.SetConcurrencyLimitAsync(FlowRun.Type, 5);
            workers.AddRange(await FlowKit.StartAllAsync(FlowRun.ProbeFlags(LeaseTime),
                ("worker A", run.Worker("a", delay)), ("worker B", run.Worker("b", delay)), ("worker C", run.Worker("c", delay))));
            var ids = await FlowRun.PublishAsync(control, total);
            await Eventually.GetAsync(() => run.MaxAsync(redis), m => m >= 5, TimeSpan.FromSeconds(15), "5 handlers in flight at once");

            await admin.SetConcurrencyLimitAsync(FlowRun.Type, 2);
            var changedAtMs = await FlowKit.ServerMsAsync(redis);
            Assert.Equal(new Dictionary<string, int> { [FlowRun.Type] = 2 }, await admin.ConcurrencyLimitsAsync());

            // The promise (1 s) plus one handler's run: handlers started before the change may still finish.
            await Task.Delay(TimeSpan.FromSeconds(1) + delay);
            var atReset = await run.ResetMaxAsync(redis);
            await Task.Delay(TimeSpan.FromSeconds(2.5));   // the observation window, not a synchronisation
            var maxAfter = await run.MaxAsync(redis);
            var starts = await run.StartsAsync(redis);
            var lateOver = starts.Where(s => s.Ms > changedAtMs && s.InFlight > 2).Select(s => s.Ms - changedAtMs).DefaultIfEmpty(0).Max();
            var startsAfter = starts.Count(s => s.Ms > changedAtMs + 1000);
            output.WriteLine($"after 5 -> 2: in flight at {1000 + delay.TotalMilliseconds:0} ms {atReset}, max from then on {maxAfter}; " +
                $"last start with more than 2 in flight {lateOver} ms after the change; {startsAfter} starts from 1 s after the change");

            Assert.True(maxAfter <= 2, $"Expected at most 2 in flight from {1000 + delay.TotalMilliseconds:0} ms after the change to 2, but the handlers saw {maxAfter} (at the reset: {atReset}).{FlowKit.Outputs(workers)}");
            Assert.True(lateOver <= 1000, $"Expected no handler to start with more than 2 in flight later than 1 s after the change, but one did {lateOver} ms after it.");
            Assert.True(maxAfter == 2, $"Expected 2 handlers still to run at once under the new limit (a backlog waits), but at most {maxAfter} did.");

            await admin.SetConcurrencyLimitAsync(FlowRun.Type, null);
            Assert.Empty(await admin.ConcurrencyLimitsAsync());
            await Task.Delay(TimeSpan.FromSeconds(1));   // LimitsRefresh (500 ms) for the workers to notice
            await run.ResetMaxAsync(redis);
            var unlimited = await Eventually.GetAsync(() => run.MaxAsync(redis), m => m > 5, TimeSpan.FromSeconds(10), "more than 5 in flight once the limit is removed");
            output.WriteLine($"after removing the limit: max in flight {unlimited}");

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
    public async Task Given_three_workers_running_a_type_without_a_limit_When_a_limit_of_3_is_set_at_runtime_Then_within_a_second_at_most_3_run()
    {
        const int total = 400;
        var run = new FlowRun();
        await using var redis = await RedisTopology.ConnectStandaloneAsync();
        var workers = new List<WorkerProcess>();
        var delay = TimeSpan.FromMilliseconds(200);
        try
        {
            await using var control = await run.ControlHostAsync();
            var admin = control.Services.GetRequiredService<MillraceAdmin>();
            workers.AddRange(await FlowKit.StartAllAsync(FlowRun.ProbeFlags(LeaseTime),
                ("worker A", run.Worker("a", delay)), ("worker B", run.Worker("b", delay)), ("worker C", run.Worker("c", delay))));
            var ids = await FlowRun.PublishAsync(control, total);
            var unlimited = await Eventually.GetAsync(() => run.MaxAsync(redis), m => m > 10, TimeSpan.FromSeconds(15), "more than 10 handlers in flight with no limit");

            // The type's first limit: the workers learn that it is limited from their limit refresh (500 ms).
            await admin.SetConcurrencyLimitAsync(FlowRun.Type, 3);
            var changedAtMs = await FlowKit.ServerMsAsync(redis);
            await Task.Delay(TimeSpan.FromSeconds(1) + delay);   // the promise plus one handler's run
            var atReset = await run.ResetMaxAsync(redis);
            await Task.Delay(TimeSpan.FromSeconds(2));   // the observation window, not a synchronisation
            var maxAfter = await run.MaxAsync(redis);
            var starts = await run.StartsAsync(redis);
            var lateOver = starts.Where(s => s.Ms > changedAtMs && s.InFlight > 3).Select(s => s.Ms - changedAtMs).DefaultIfEmpty(0).Max();
            output.WriteLine($"no limit: max in flight {unlimited}; limit 3 set: in flight {1000 + delay.TotalMilliseconds:0} ms later {atReset}, max from then on {maxAfter}; " +
                $"last start with more than 3 in flight {lateOver} ms after the change");
            Assert.True(maxAfter <= 3, $"Expected at most 3 in flight from {1000 + delay.TotalMilliseconds:0} ms after a first limit of 3 was set, but the handlers saw {maxAfter}.{FlowKit.Outputs(workers)}");
            Assert.True(lateOver <= 1000, $"Expected no handler to start with more than 3 in flight later than 1 s after the limit was set, but one did {lateOver} ms after it.");
            Assert.True(maxAfter == 3, $"Expected 3 to run at once under the new limit (a backlog waits), but at most {maxAfter} did.");

            await admin.SetConcurrencyLimitAsync(FlowRun.Type, null);
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
    public async Task Given_a_concurrency_limit_on_one_type_When_its_backlog_waits_for_permits_Then_other_types_on_the_same_queue_are_not_held_back()
    {
        const int limitedCount = 30;
        const int freeCount = 200;
        long limitedDone = 0;
        long freeDone = 0;
        long limitedDoneAtLastFree = -1;
        await using var host = await TestHost.StartAsync(m => m
            .AddConsumer("mixed", c => c.Concurrency = 8)
            .AddHandler("limited", async (_, token) =>
            {
                await Task.Delay(100, token);
                Interlocked.Increment(ref limitedDone);
            })
            .AddHandler("free", (_, _) =>
            {
                if (Interlocked.Increment(ref freeDone) == freeCount)
                {
                    Interlocked.Exchange(ref limitedDoneAtLastFree, Interlocked.Read(ref limitedDone));
                }

                return Task.CompletedTask;
            }));
        try
        {
            var admin = host.Services.GetRequiredService<MillraceAdmin>();
            await admin.SetConcurrencyLimitAsync("limited", 1);
            await Task.Delay(TimeSpan.FromSeconds(1));   // LimitsRefresh: the consumer learns that 'limited' has a limit

            // The limited type first: 30 x 100 ms one at a time take 3 s; the 200 'free' ones behind them need no permit.
            await host.Publisher.PublishBatchAsync([.. Enumerable.Range(0, limitedCount).Select(_ => new OutgoingMessage { Queue = "mixed", Type = "limited", Payload = "l"u8.ToArray() })]);
            await host.Publisher.PublishBatchAsync([.. Enumerable.Range(0, freeCount).Select(_ => new OutgoingMessage { Queue = "mixed", Type = "free", Payload = "f"u8.ToArray() })]);
            await Eventually.GetAsync(() => Task.FromResult(Interlocked.Read(ref freeDone)), n => n == freeCount, TimeSpan.FromSeconds(30), $"all {freeCount} 'free' messages handled");
            output.WriteLine($"when the last 'free' message was handled, {limitedDoneAtLastFree} of {limitedCount} 'limited' ones were done (limit 1, 100 ms each)");
            Assert.True(limitedDoneAtLastFree < limitedCount / 2,
                $"Expected the 200 messages of a type with no limit to be handled while the limited type's backlog (limit 1, 30 x 100 ms) waits, " +
                $"but {limitedDoneAtLastFree} of the {limitedCount} limited ones were already done when the last free one ran: messages waiting for a permit hold the consumer's handler slots.");
            await Eventually.GetAsync(() => Task.FromResult(Interlocked.Read(ref limitedDone)), n => n == limitedCount, TimeSpan.FromSeconds(30), "all limited messages handled");
        }
        finally
        {
            await host.StopAsync();
            await FlowKit.DeleteKeysAsync(host.Redis, host.Prefix);
        }
    }

    [Fact]
    public async Task Given_messages_waiting_for_a_permit_longer_than_the_visibility_timeout_When_two_consumers_share_them_Then_each_is_handled_once()
    {
        const int total = 40;
        var handled = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        Action<MillraceBuilder> configure = m => m
            .AddConsumer("waiting", c => (c.Concurrency, c.VisibilityTimeout) = (4, TimeSpan.FromSeconds(1)))
            .AddHandler("slow", async (context, token) =>
            {
                handled.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1);
                await Task.Delay(150, token);
            });
        await using var one = await TestHost.StartAsync(configure);
        var admin = one.Services.GetRequiredService<MillraceAdmin>();
        await admin.SetConcurrencyLimitAsync("slow", 1);
        await Task.Delay(TimeSpan.FromSeconds(1));   // LimitsRefresh: the consumer learns that 'slow' has a limit
        await using var two = await TestHost.StartAsync(configure, one.Prefix);
        try
        {
            // One at a time, 150 ms each: the last waits 6 s, six visibility timeouts, for its permit.
            var ids = (await one.Publisher.PublishBatchAsync([.. Enumerable.Range(0, total).Select(_ => new OutgoingMessage { Queue = "waiting", Type = "slow", Payload = "w"u8.ToArray() })]))
                .Select(r => r.MessageId).ToArray();
            await Eventually.GetAsync(() => Task.FromResult(handled.Count), n => n == total, TimeSpan.FromSeconds(30), $"all {total} messages handled");
            await FailureKit.WaitForSettledAsync(one.Redis, new QueueKeys(one.Prefix, "waiting", 1), TimeSpan.FromSeconds(15));
            var twice = handled.Where(h => h.Value > 1).ToArray();
            output.WriteLine($"{total} messages, {twice.Length} handled more than once ({twice.Sum(t => t.Value - 1)} extra runs)");
            Assert.True(twice.Length == 0,
                $"Expected each message handled once (both consumers are alive; a message waiting for a permit is held by its consumer), but {twice.Length} of {total} ran more than once " +
                $"({string.Join(", ", twice.Take(5).Select(t => $"{t.Key} x{t.Value}"))}): entries fetched but not yet started are not renewed and the other consumer reclaims them.");
            Assert.Equal(ids.Order(StringComparer.Ordinal), handled.Keys.Order(StringComparer.Ordinal));
        }
        finally
        {
            await two.StopAsync();
            await one.StopAsync();
            await FlowKit.DeleteKeysAsync(one.Redis, one.Prefix);
        }
    }

    [Fact]
    public async Task Given_a_concurrency_limit_When_it_is_set_out_of_range_Then_it_is_refused_and_nothing_changes()
    {
        await using var host = await TestHost.StartAsync(m => m.AddQueue("q"));
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        await admin.SetConcurrencyLimitAsync("t", 3);
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => admin.SetConcurrencyLimitAsync("t", -1));
        Assert.Contains("'t'", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.SetConcurrencyLimitAsync(" ", 1));
        Assert.Equal(new Dictionary<string, int> { ["t"] = 3 }, await admin.ConcurrencyLimitsAsync());
        Assert.Equal(0, await admin.ConcurrencyInUseAsync("t"));
        await FlowKit.DeleteKeysAsync(host.Redis, host.Prefix);
    }
}
