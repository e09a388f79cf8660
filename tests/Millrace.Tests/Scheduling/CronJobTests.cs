using System.Collections.Concurrent;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Scheduling;

public sealed class CronJobTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_cron_job_on_three_instances_fires_exactly_once_per_tick_over_twenty_ticks()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        var ticks = new ConcurrentDictionary<string, int>();
        await using var consumer = await TestHost.StartAsync(m => m.AddConsumer("cron", c => c.StartPosition = StartPosition.Earliest).AddHandler("tick", (context, _) =>
        {
            ticks.AddOrUpdate(context.Message.Headers["cron_tick"], 1, (_, n) => n + 1);
            return Task.CompletedTask;
        }), prefix);
        var instances = new List<TestHost>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                instances.Add(await TestHost.StartAsync(m => m.AddCronJob("every-second", "* * * * * *", "cron", "tick", j => j.Misfire = MisfirePolicy.Skip), prefix));
            }

            await Eventually.GetAsync(() => Task.FromResult(ticks.Count), n => n >= 22, TimeSpan.FromSeconds(40), "22 ticks");
        }
        finally
        {
            foreach (var instance in instances)
            {
                await instance.DisposeAsync();
            }
        }

        // The last tick or two may still be arriving; every tick seen must have come exactly once.
        await Task.Delay(1500);
        output.WriteLine($"{ticks.Count} ticks, fires per tick: {string.Join(",", ticks.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Value))}");
        Assert.All(ticks, t => Assert.True(t.Value == 1, $"tick {t.Key} fired {t.Value} times; expected exactly once across three instances"));
        var times = ticks.Keys.Select(k => DateTimeOffset.Parse(k, System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray();
        Assert.All(times.Zip(times.Skip(1)), pair => Assert.Equal(TimeSpan.FromSeconds(1), pair.Second - pair.First));
    }

    [Theory]
    [InlineData(MisfirePolicy.FireOnce, 1)]
    [InlineData(MisfirePolicy.Skip, 0)]
    public async Task Missed_ticks_follow_the_misfire_policy_when_an_instance_starts(MisfirePolicy policy, int expectedCatchUps)
    {
        var prefix = $"t{Guid.NewGuid():N}";
        var fired = new ConcurrentQueue<string>();
        var startedAt = DateTimeOffset.UtcNow;
        await using var host = await TestHost.StartAsync(m => m
            .AddCronJob("hourly", "0 * * * *", "cron", "tick", j => { j.Misfire = policy; j.MisfireWindow = TimeSpan.FromHours(2); })
            .AddConsumer("cron", c => c.StartPosition = StartPosition.Earliest)
            .AddHandler("tick", (context, _) =>
            {
                fired.Enqueue(context.Message.Headers["cron_tick"]);
                return Task.CompletedTask;
            }), prefix);

        // An hourly job that nobody ran: the last full hour is a missed tick within the window.
        if (expectedCatchUps > 0)
        {
            await Eventually.GetAsync(() => Task.FromResult(fired.Count), n => n >= expectedCatchUps, TimeSpan.FromSeconds(10), "the catch-up tick");
        }
        else
        {
            await Task.Delay(1000);   // nothing should come; a wait is the only way to see absence
        }

        Assert.Equal(expectedCatchUps, fired.Count(t => DateTimeOffset.Parse(t, System.Globalization.CultureInfo.InvariantCulture) <= startedAt));
    }

    [Fact]
    public async Task An_invalid_cron_expression_stops_the_host_at_start_naming_the_job()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => TestHost.StartAsync(m => m.AddCronJob("broken", "61 * * * *", "cron", "tick")));

        Assert.Contains("Cron job 'broken'", error.Message, StringComparison.Ordinal);
        Assert.Contains("minute", error.Message, StringComparison.Ordinal);
    }
}
