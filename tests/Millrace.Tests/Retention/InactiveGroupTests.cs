using Millrace.Redis;
using Millrace.Redis.Tests.Support;

namespace Millrace.Tests.Retention;

/// <summary>
/// A group inactive for longer than RetentionOptions.InactiveGroupTimeout does not pin its stream
/// (and is reported); with no timeout, a stalled group keeps every entry it has not acknowledged.
/// </summary>
public sealed class InactiveGroupTests
{
    private static readonly RetentionPolicy KeepNothing = new() { MaxAge = TimeSpan.Zero, MinCount = 0 };

    [Fact]
    public async Task Given_a_group_just_created_at_an_old_id_When_cleaned_Then_it_is_not_taken_for_abandoned_but_pins_what_it_has_not_read()
    {
        await using var kit = await RetentionKit.StartAsync(configureRetention: r => r.InactiveGroupTimeout = TimeSpan.FromMinutes(10));
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 30);
        await kit.CreateGroupAsync("workers");
        await kit.ReadAndAckAllAsync("workers");
        await kit.CreateGroupAsync("replay");   // at 0, to read history; its consumer has not started yet

        var result = await kit.Admin.CleanupAsync(kit.Queue, KeepNothing);

        Assert.Empty(result.IgnoredGroups);
        Assert.Equal(0, result.Deleted);
        Assert.Equal(ids, await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_a_group_without_consumers_that_delivered_nothing_for_longer_than_the_timeout_When_cleaned_Then_it_is_ignored_and_reported()
    {
        await using var kit = await RetentionKit.StartAsync(configureRetention: r => r.InactiveGroupTimeout = TimeSpan.FromSeconds(1));
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 30);
        await kit.CreateGroupAsync("workers");
        await kit.CreateGroupAsync("abandoned");   // at 0: has read nothing, so while active it pins all 30
        await kit.ReadAndAckAllAsync("workers");

        var first = await kit.Admin.CleanupAsync(kit.Queue, KeepNothing);
        Assert.Empty(first.IgnoredGroups);   // first seen idle just now
        Assert.Equal(ids, await kit.IdsAsync());

        var result = await Eventually.GetAsync(
            () => kit.Admin.CleanupAsync(kit.Queue, KeepNothing), r => r.IgnoredGroups.Contains("abandoned"), TimeSpan.FromSeconds(30), "the abandoned group to be reported inactive");

        Assert.Equal(30, result.Deleted);
        Assert.Contains("abandoned", Assert.Single(result.Streams).IgnoredGroups);
        Assert.Empty(await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_no_inactive_group_timeout_When_a_group_has_stalled_Then_it_still_pins_what_it_has_not_acknowledged()
    {
        await using var kit = await RetentionKit.StartAsync(configureRetention: r => r.InactiveGroupTimeout = null);
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 30);
        await kit.CreateGroupAsync("workers");
        await kit.CreateGroupAsync("abandoned");
        await kit.ReadAndAckAllAsync("workers");

        var result = await kit.Admin.CleanupAsync(kit.Queue, KeepNothing);

        Assert.Equal(0, result.Deleted);
        Assert.Empty(result.IgnoredGroups);
        Assert.Equal(ids, await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_a_group_whose_consumers_have_gone_idle_When_the_timeout_passes_Then_its_pending_entries_stop_pinning_the_stream()
    {
        await using var kit = await RetentionKit.StartAsync(configureRetention: r => r.InactiveGroupTimeout = TimeSpan.FromSeconds(2));
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 40);
        await kit.CreateGroupAsync("workers");
        await kit.CreateGroupAsync("stuck");
        await kit.ReadAndAckAllAsync("workers");
        var stuck = await kit.ReadAsync("stuck", "frozen", 25);   // read, never acknowledged; the consumer then goes quiet
        await kit.AckAsync("stuck", stuck.Take(5).ToArray());

        // Until the group counts as inactive, its oldest pending entry (the 6th) bounds the cleanup;
        // once it does, everything older than MaxAge goes. Poll with a deadline for the switch.
        var result = await Eventually.GetAsync(
            async () =>
            {
                var r = await kit.Admin.CleanupAsync(kit.Queue, KeepNothing);
                if (!r.IgnoredGroups.Contains("stuck"))
                {
                    Assert.Equal(ids.Skip(5), await kit.IdsAsync());
                }

                return r;
            },
            r => r.IgnoredGroups.Contains("stuck"), TimeSpan.FromSeconds(30), "the idle group to be reported inactive");

        Assert.Empty(await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_a_group_whose_consumer_keeps_reading_When_cleaned_Then_it_is_not_inactive_and_its_pending_entries_stay()
    {
        await using var kit = await RetentionKit.StartAsync(configureRetention: r => r.InactiveGroupTimeout = TimeSpan.FromMinutes(10));
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 30);
        await kit.CreateGroupAsync("workers");
        await kit.AckAsync("workers", (await kit.ReadAsync("workers", "c1", 30)).Skip(10).ToArray());   // the first 10 stay pending

        var result = await kit.Admin.CleanupAsync(kit.Queue, KeepNothing);

        Assert.Empty(result.IgnoredGroups);
        Assert.Equal(0, result.Deleted);
        Assert.Equal(ids, await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_a_paused_queue_When_its_consumers_have_been_idle_past_the_timeout_Then_no_group_counts_as_inactive_until_it_is_resumed()
    {
        await using var kit = await RetentionKit.StartAsync(configureRetention: r => r.InactiveGroupTimeout = TimeSpan.FromSeconds(1));
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 20);
        await kit.CreateGroupAsync("workers");
        await kit.ReadAsync("workers", "c1", 10);   // 10 pending, 10 unread: the pause stopped the consumer
        await kit.Admin.PauseAsync(kit.Queue);
        await Eventually.GetAsync(
            async () => (await kit.Redis.XInfoConsumersAsync(kit.Stream, "workers")).Single().Idle,
            idle => idle > TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(30), "the paused consumer to be idle past the timeout");

        var paused = await kit.Admin.CleanupAsync(kit.Queue, KeepNothing);

        Assert.Empty(paused.IgnoredGroups);
        Assert.Equal(ids, await kit.IdsAsync());

        await kit.Admin.ResumeAsync(kit.Queue);
        var resumed = await kit.Admin.CleanupAsync(kit.Queue, KeepNothing);

        Assert.Equal(["workers"], resumed.IgnoredGroups);
        Assert.Equal(20, resumed.Deleted);
    }
}
