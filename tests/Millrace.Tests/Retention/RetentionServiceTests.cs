using Millrace.Redis;
using Millrace.Redis.Tests.Support;

namespace Millrace.Tests.Retention;

/// <summary>The background sweep (RetentionService) cleans the queues that have a retention policy, and only those.</summary>
public sealed class RetentionServiceTests
{
    [Fact]
    public async Task Given_a_queue_with_a_retention_policy_When_the_host_runs_Then_the_sweep_trims_it_to_the_policy()
    {
        await using var kit = await RetentionKit.StartAsync(
            configureQueue: q => q.Retention = new RetentionPolicy { MaxAge = TimeSpan.Zero, MinCount = 5 },
            configureRetention: r => r.Interval = TimeSpan.FromMilliseconds(100));
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 60);
        await kit.CreateGroupAsync("workers");
        await kit.ReadAndAckAllAsync("workers");

        await Eventually.GetAsync(() => kit.Redis.XLenAsync(kit.Stream), n => n == 5, TimeSpan.FromSeconds(15), "the sweep to trim the stream to its 5 newest entries");

        Assert.Equal(ids.TakeLast(5), await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_two_queues_of_which_one_has_a_policy_When_the_sweep_runs_Then_the_other_is_left_alone()
    {
        await using var kit = await RetentionKit.StartAsync(
            queue: "swept",
            configureQueue: q => q.Retention = new RetentionPolicy { MaxAge = TimeSpan.Zero, MinCount = 0 },
            configureRetention: r => r.Interval = TimeSpan.FromMilliseconds(100),
            otherQueues: ["kept"]);
        var keptStream = kit.StreamOf("kept");
        var old = await kit.NowAsync() - 3_600_000;
        var kept = await kit.AddAtAsync(old, 20, keptStream);
        await kit.CreateGroupAsync("workers", stream: keptStream);
        await kit.ReadAndAckAllAsync("workers", keptStream);

        // Two rounds on the swept queue: the second proves a whole sweep ran after the kept queue was filled.
        await kit.CreateGroupAsync("workers");
        for (var round = 0; round < 2; round++)
        {
            await kit.AddAtAsync(old + round, 20);
            await kit.ReadAndAckAllAsync("workers");
            await Eventually.GetAsync(() => kit.Redis.XLenAsync(kit.Stream), n => n == 0, TimeSpan.FromSeconds(15), $"the swept queue to be emptied (round {round + 1})");
        }

        Assert.Equal(kept, await kit.IdsAsync(keptStream));
    }
}
