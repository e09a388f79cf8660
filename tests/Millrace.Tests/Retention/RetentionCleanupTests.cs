using Millrace.Redis;
using Millrace.Redis.Tests.Support;

namespace Millrace.Tests.Retention;

/// <summary>On-demand cleanup (MillraceAdmin.CleanupAsync) against a real Redis: what goes and what must stay.</summary>
public sealed class RetentionCleanupTests
{
    private static readonly RetentionPolicy KeepNothing = new() { MaxAge = TimeSpan.Zero, MinCount = 0 };

    [Fact]
    public async Task Given_acknowledged_entries_of_different_ages_When_cleaned_Then_only_those_older_than_MaxAge_are_deleted()
    {
        await using var kit = await RetentionKit.StartAsync();
        var now = await kit.NowAsync();
        var old = await kit.AddAtAsync(now - (long)TimeSpan.FromHours(2).TotalMilliseconds, 20);
        var recent = await kit.AddAtAsync(now - (long)TimeSpan.FromMinutes(30).TotalMilliseconds, 20);
        var fresh = await kit.AddNowAsync(5);
        await kit.CreateGroupAsync("workers");
        await kit.ReadAndAckAllAsync("workers");

        var result = await kit.Admin.CleanupAsync(kit.Queue, new RetentionPolicy { MaxAge = TimeSpan.FromHours(1), MinCount = 0 });

        Assert.Equal(old.Count, result.Deleted);
        Assert.Equal([.. recent, .. fresh], await kit.IdsAsync());
        Assert.Empty(result.IgnoredGroups);
    }

    [Fact]
    public async Task Given_old_acknowledged_entries_When_cleaned_Then_the_newest_MinCount_stay()
    {
        await using var kit = await RetentionKit.StartAsync();
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 100);
        await kit.CreateGroupAsync("workers");
        await kit.ReadAndAckAllAsync("workers");

        var result = await kit.Admin.CleanupAsync(kit.Queue, new RetentionPolicy { MaxAge = TimeSpan.Zero, MinCount = 30 });

        Assert.Equal(70, result.Deleted);
        Assert.Equal(ids.TakeLast(30), await kit.IdsAsync());
        Assert.Equal(30, Assert.Single(result.Streams).Length);
    }

    [Fact]
    public async Task Given_entries_pending_in_a_group_When_cleaned_Then_nothing_from_the_oldest_pending_entry_on_is_deleted()
    {
        await using var kit = await RetentionKit.StartAsync();
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 50);
        await kit.CreateGroupAsync("workers");
        var read = await kit.ReadAsync("workers", "c1", 50);
        await kit.AckAsync("workers", [.. read.Take(10), .. read.Skip(20).Take(10)]);   // 10..19 stay pending

        var result = await kit.Admin.CleanupAsync(kit.Queue, KeepNothing);

        Assert.Equal(10, result.Deleted);
        Assert.Equal(ids.Skip(10), await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_a_second_group_that_has_not_read_yet_When_cleaned_Then_nothing_is_deleted()
    {
        await using var kit = await RetentionKit.StartAsync();
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 40);
        await kit.CreateGroupAsync("fast");
        await kit.CreateGroupAsync("slow");
        await kit.ReadAndAckAllAsync("fast");
        await kit.AckAsync("slow", await kit.ReadAsync("slow", "c1", 15));

        var result = await kit.Admin.CleanupAsync(kit.Queue, KeepNothing);

        Assert.Equal(15, result.Deleted);
        Assert.Equal(ids.Skip(15), await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_a_stream_with_no_consumer_group_When_cleaned_Then_it_is_left_untouched()
    {
        await using var kit = await RetentionKit.StartAsync();
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 30);

        var result = await kit.Admin.CleanupAsync(kit.Queue, KeepNothing);

        Assert.Equal(0, result.Deleted);
        Assert.Equal(ids, await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_entries_in_every_partition_and_priority_level_When_cleaned_Then_each_stream_is_cleaned_and_dead_letters_are_not()
    {
        await using var kit = await RetentionKit.StartAsync(configureQueue: q =>
        {
            q.Partitions = 2;
            q.PriorityLevels = 2;
        });
        var old = await kit.NowAsync() - 3_600_000;
        var streams = Enumerable.Range(0, 2).SelectMany(kit.Keys.LevelStreams).ToArray();
        Assert.Equal(4, streams.Distinct().Count());
        foreach (var stream in streams)
        {
            await kit.AddAtAsync(old, 25, stream);
            await kit.CreateGroupAsync("workers", stream: stream);
            await kit.ReadAndAckAllAsync("workers", stream);
        }

        var dead = await kit.AddAtAsync(old, 7, kit.Keys.Dead(0));

        var result = await kit.Admin.CleanupAsync(kit.Queue, new RetentionPolicy { MaxAge = TimeSpan.Zero, MinCount = 5 });

        Assert.Equal(4 * 20, result.Deleted);
        Assert.Equal(streams.Order(StringComparer.Ordinal), result.Streams.Select(s => s.Stream).Order(StringComparer.Ordinal));
        foreach (var stream in streams)
        {
            Assert.Equal(5, await kit.Redis.XLenAsync(stream));
        }

        Assert.Equal(dead, await kit.IdsAsync(kit.Keys.Dead(0)));
    }

    [Fact]
    public async Task Given_a_partitioned_queue_on_Cluster_When_cleaned_Then_every_partition_is_cleaned_up_to_its_oldest_pending_entry()
    {
        await using var kit = await RetentionKit.StartAsync(
            configureQueue: q => q.Partitions = 3,
            configureRetention: r => r.InactiveGroupTimeout = TimeSpan.FromMinutes(10),
            redis: await RedisTopology.ClusterOptionsAsync());
        var old = await kit.NowAsync() - 3_600_000;
        var kept = new List<string>();
        for (var p = 0; p < 3; p++)
        {
            var stream = kit.Keys.Stream(p);
            var ids = await kit.AddAtAsync(old, 30, stream);
            await kit.CreateGroupAsync("workers", stream: stream);
            await kit.AckAsync("workers", (await kit.ReadAsync("workers", "c1", 30, stream)).Where((_, i) => i != 20).ToArray(), stream);   // entry 20 stays pending
            kept.AddRange(ids.Skip(20));
        }

        var result = await kit.Admin.CleanupAsync(kit.Queue, KeepNothing);

        Assert.Equal(3 * 20, result.Deleted);
        var left = new List<string>();
        for (var p = 0; p < 3; p++)
        {
            left.AddRange(await kit.IdsAsync(kit.Keys.Stream(p)));
        }

        Assert.Equal(kept, left);
    }

    [Fact]
    public async Task Given_more_entries_than_one_batch_When_cleaned_Then_batches_are_repeated_until_done()
    {
        await using var kit = await RetentionKit.StartAsync(configureRetention: r => r.BatchSize = 7);
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 100);
        await kit.CreateGroupAsync("workers");
        await kit.ReadAndAckAllAsync("workers");

        var result = await kit.Admin.CleanupAsync(kit.Queue, new RetentionPolicy { MaxAge = TimeSpan.Zero, MinCount = 3 });

        Assert.Equal(97, result.Deleted);
        Assert.Equal(ids.TakeLast(3), await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_no_policy_When_cleaned_Then_the_queue_configured_policy_applies()
    {
        await using var kit = await RetentionKit.StartAsync(configureQueue: q => q.Retention = new RetentionPolicy { MaxAge = TimeSpan.Zero, MinCount = 12 });
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 40);
        await kit.CreateGroupAsync("workers");
        await kit.ReadAndAckAllAsync("workers");

        var result = await kit.Admin.CleanupAsync(kit.Queue);

        Assert.Equal(12, result.Policy.MinCount);
        Assert.Equal(ids.TakeLast(12), await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_no_policy_and_none_configured_When_cleaned_Then_the_normal_class_applies()
    {
        await using var kit = await RetentionKit.StartAsync();
        var ids = await kit.AddAtAsync(await kit.NowAsync() - (long)TimeSpan.FromHours(2).TotalMilliseconds, 1500);
        await kit.CreateGroupAsync("workers");
        await kit.ReadAndAckAllAsync("workers");

        var result = await kit.Admin.CleanupAsync(kit.Queue);

        Assert.Equal((TimeSpan.FromHours(1), 1000), (result.Policy.MaxAge, result.Policy.MinCount));
        Assert.Equal(500, result.Deleted);
        Assert.Equal(ids.TakeLast(1000), await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_a_queue_that_was_never_declared_When_cleaned_Then_a_clear_error_names_it()
    {
        await using var kit = await RetentionKit.StartAsync();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => kit.Admin.CleanupAsync("ghosts"));

        Assert.Contains("'ghosts' does not exist", error.Message, StringComparison.Ordinal);
        Assert.Equal("queue", error.ParamName);
    }

    [Fact]
    public async Task Given_an_invalid_policy_When_cleaned_Then_it_is_refused_and_nothing_is_deleted()
    {
        await using var kit = await RetentionKit.StartAsync();
        var ids = await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 10);
        await kit.CreateGroupAsync("workers");
        await kit.ReadAndAckAllAsync("workers");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => kit.Admin.CleanupAsync(kit.Queue, new RetentionPolicy { MaxAge = TimeSpan.Zero, MinCount = -1 }));

        Assert.Contains("MinCount is -1", error.Message, StringComparison.Ordinal);
        Assert.Equal(ids, await kit.IdsAsync());
    }

    [Fact]
    public async Task Given_a_cleanup_When_entries_are_deleted_Then_the_retention_counter_counts_them()
    {
        var queue = $"metered{Guid.NewGuid():N}"[..20];
        await using var kit = await RetentionKit.StartAsync(queue);
        await kit.AddAtAsync(await kit.NowAsync() - 3_600_000, 25);
        await kit.CreateGroupAsync("workers");
        await kit.ReadAndAckAllAsync("workers");
        long counted = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == MillraceTelemetry.Name && instrument.Name == "millrace.retention.deleted")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "queue" && (string?)tag.Value == queue)
                {
                    Interlocked.Add(ref counted, value);
                }
            }
        });
        listener.Start();

        var result = await kit.Admin.CleanupAsync(queue, new RetentionPolicy { MaxAge = TimeSpan.Zero, MinCount = 4 });

        Assert.Equal(21, result.Deleted);
        Assert.Equal(21, Interlocked.Read(ref counted));
    }
}
