using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Retention;

/// <summary>
/// The acceptance test of issue 5 for retention: two groups read and acknowledge at random over
/// thousands of entries while cleanups run at random; after every cleanup, every entry that some
/// group has not acknowledged must still be in the stream. Once everything is acknowledged and old
/// enough, the stream shrinks to the policy's MinCount.
/// </summary>
public sealed class RetentionRandomizedTests(ITestOutputHelper output)
{
    private const int Entries = 5000;
    private const int MinCount = 10;
    private static readonly string[] Groups = ["billing", "shipping"];
    private static readonly string[] Consumers = ["c1", "c2"];

    [Fact]
    public async Task Given_two_groups_acking_at_random_When_cleanups_run_at_random_Then_no_unacknowledged_entry_is_ever_deleted_and_the_stream_shrinks_once_all_are_acknowledged()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        // Small batches, so one cleanup takes several script calls; below or above a stream node's
        // 100 entries, so the exact path alone or whole-node trimming plus the exact path both run.
        var batch = random.Next(40, 400);
        output.WriteLine($"batch {batch}");
        await using var kit = await RetentionKit.StartAsync(configureRetention: r => r.BatchSize = batch);
        foreach (var group in Groups)
        {
            await kit.CreateGroupAsync(group);
        }

        var added = new List<string>();
        var acked = Groups.ToDictionary(g => g, _ => new HashSet<string>(StringComparer.Ordinal));
        var pending = Groups.ToDictionary(g => g, _ => new List<string>());
        long deleted = 0;
        var cleanups = 0;
        var step = 0;
        while (added.Count < Entries || step < 600)
        {
            step++;
            var action = random.Next(10);
            var group = Groups[random.Next(Groups.Length)];
            if (action < 2 && added.Count < Entries)
            {
                added.AddRange(await kit.AddNowAsync(Math.Min(random.Next(1, 250), Entries - added.Count)));
            }
            else if (action < 5)
            {
                pending[group].AddRange(await kit.ReadAsync(group, Consumers[random.Next(Consumers.Length)], random.Next(1, 200)));
            }
            else if (action < 8)
            {
                // Acknowledge a random subset, out of order: pending lists get holes.
                var share = random.NextDouble();
                var toAck = pending[group].Where(_ => random.NextDouble() < share).ToArray();
                await kit.AckAsync(group, toAck);
                acked[group].UnionWith(toAck);
                pending[group].RemoveAll(acked[group].Contains);
            }
            else
            {
                var policy = new RetentionPolicy { MaxAge = TimeSpan.FromMilliseconds(random.Next(3) * 100), MinCount = random.Next(50, 300) };
                var lengthBefore = await kit.Redis.XLenAsync(kit.Stream);
                var presentBefore = (await kit.IdsAsync()).ToArray();
                var result = await kit.Admin.CleanupAsync(kit.Queue, policy);
                var nowAfter = await kit.NowAsync();
                cleanups++;
                deleted += result.Deleted;
                var when = $"cleanup {cleanups} (step {step}, seed {seed}, batch {batch}, {policy})";
                Assert.Empty(result.IgnoredGroups);
                await AssertNothingUnacknowledgedIsGoneAsync(kit, added, acked, when);
                var lengthAfter = await kit.Redis.XLenAsync(kit.Stream);
                Assert.True(lengthAfter >= Math.Min(policy.MinCount, lengthBefore), $"After {when}: {lengthAfter} entries left of {lengthBefore}; MinCount is {policy.MinCount}.");
                Assert.Equal(lengthBefore - result.Deleted, lengthAfter);
                // Only what this cleanup deleted is judged by this cleanup's MaxAge: an earlier one with a
                // smaller MaxAge rightly deleted younger entries.
                AssertOnlyOldEntriesAreGone(presentBefore, (await kit.IdsAsync()).ToHashSet(StringComparer.Ordinal), nowAfter - (long)policy.MaxAge.TotalMilliseconds, when);
            }
        }

        output.WriteLine($"{step} steps, {cleanups} cleanups, {deleted} entries deleted while groups were still working");
        Assert.True(cleanups >= 20, $"Expected the random run to clean up at least 20 times (it did {cleanups}; seed {seed}).");
        Assert.True(deleted > 0, $"Expected the cleanups during the run to delete some entries both groups had acknowledged (seed {seed}).");

        // Everything read and acknowledged: the stream shrinks to MinCount, the newest entries.
        foreach (var group in Groups)
        {
            await kit.ReadAndAckAllAsync(group);
            await kit.AckAsync(group, pending[group]);
            acked[group].UnionWith(added);
        }

        var before = await kit.Redis.XLenAsync(kit.Stream);
        Assert.True(before >= 50, $"Expected at least 50 entries before the final cleanup (the run keeps at least 50), found {before}.");
        var finalPolicy = new RetentionPolicy { MaxAge = TimeSpan.Zero, MinCount = MinCount };
        await Eventually.GetAsync(
            async () => (await kit.Admin.CleanupAsync(kit.Queue, finalPolicy)).Streams[0].Length,
            length => length == MinCount, TimeSpan.FromSeconds(10), $"the stream to shrink to {MinCount} entries once everything is acknowledged (seed {seed})");
        Assert.Equal(added.TakeLast(MinCount), await kit.IdsAsync());
    }

    /// <summary>Every entry gone was older than MaxAge when the cleanup ran (its id time is below the cutoff, taken after the run as an upper bound).</summary>
    private static void AssertOnlyOldEntriesAreGone(IReadOnlyList<string> added, HashSet<string> present, long cutoffMs, string when)
    {
        var tooYoung = added.Where(id => !present.Contains(id) && long.Parse(id[..id.IndexOf('-', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture) >= cutoffMs).ToArray();
        Assert.True(tooYoung.Length == 0, $"After {when}: {tooYoung.Length} entries younger than MaxAge were deleted, first {string.Join(", ", tooYoung.Take(5))} (cutoff {cutoffMs}).");
    }

    private static async Task AssertNothingUnacknowledgedIsGoneAsync(
        RetentionKit kit, IReadOnlyList<string> added, Dictionary<string, HashSet<string>> acked, string when)
    {
        var present = (await kit.IdsAsync()).ToHashSet(StringComparer.Ordinal);
        var missing = added.Where(id => !present.Contains(id) && acked.Values.Any(a => !a.Contains(id))).ToArray();
        Assert.True(missing.Length == 0,
            $"After {when}: {missing.Length} entries that some group had not acknowledged were deleted, first {string.Join(", ", missing.Take(5))} " +
            $"(acknowledged by: {string.Join(", ", missing.Take(5).Select(id => string.Join("+", acked.Where(a => a.Value.Contains(id)).Select(a => a.Key))))}).");
        Assert.True(present.IsSubsetOf(added), $"After {when}: the stream holds ids that were never added.");
    }
}
