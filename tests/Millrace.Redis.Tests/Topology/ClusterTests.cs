using Millrace.Redis.Tests.Support;
using Millrace.Redis.Topology;

namespace Millrace.Redis.Tests.Topology;

/// <summary>Against the real 6-node Cluster (3 primaries, 3 replicas). One class: slot migrations never overlap.</summary>
public sealed class ClusterTests
{
    [Fact]
    public async Task Keys_on_all_three_shards_are_written_and_read_back()
    {
        await using var redis = await RedisClient.ConnectAsync(await RedisTopology.ClusterOptionsAsync());
        var cluster = (ClusterClient)redis;
        var keys = Enumerable.Range(0, 60).Select(i => TestKeys.Unique($"k{i}")).ToArray();

        foreach (var key in keys)
        {
            await redis.SetAsync(key, key);
        }

        var values = await Task.WhenAll(keys.Select(k => redis.GetStringAsync(k)));
        var shards = await Task.WhenAll(keys.Select(k => cluster.EndpointOfSlotAsync(HashSlot.Of(k), CancellationToken.None)));

        Assert.Equal(keys, values);
        Assert.Equal(3, shards.Distinct().Count());
    }

    [Fact]
    public async Task A_batch_spanning_shards_comes_back_in_order()
    {
        await using var redis = await RedisClient.ConnectAsync(await RedisTopology.ClusterOptionsAsync());
        var keys = Enumerable.Range(0, 30).Select(i => TestKeys.Unique($"b{i}")).ToArray();

        await redis.ExecuteBatchAsync(keys.Select(k => KeyCommands.Set(k, "v:" + k)).ToArray());
        var replies = await redis.ExecuteBatchAsync(keys.Select(k => new RedisCommand("GET", [k], 0)).ToArray());

        Assert.Equal(keys.Select(k => "v:" + k), replies.Select(r => r.AsString()));
    }

    [Fact]
    public async Task Streams_groups_scripts_and_blocking_reads_work_under_one_hash_tag()
    {
        await using var redis = await RedisClient.ConnectAsync(await RedisTopology.ClusterOptionsAsync());
        var tag = "{q:" + Guid.NewGuid().ToString("N") + "}";
        var stream = tag + ":stream";
        var counter = tag + ":count";
        var script = new RedisScript("redis.call('INCR', KEYS[2]) return redis.call('XADD', KEYS[1], '*', 'f', ARGV[1])");
        await redis.XGroupCreateAsync(stream, "g", "$");

        var id = (await redis.EvalAsync(script, [stream, counter], ["v"])).AsString();
        var read = await redis.XReadGroupAsync(stream, "g", "c", block: TimeSpan.FromSeconds(2));

        Assert.Equal(id, Assert.Single(read).Id);
        Assert.Equal("1", await redis.GetStringAsync(counter));
    }

    [Fact]
    public async Task Keys_of_one_slot_in_a_script_must_share_a_hash_tag_or_Redis_refuses()
    {
        await using var redis = await RedisClient.ConnectAsync(await RedisTopology.ClusterOptionsAsync());
        var script = new RedisScript("return redis.call('GET', KEYS[1])");
        var (a, b) = (TestKeys.InSlot(1, "a"), TestKeys.InSlot(9000, "b"));

        var error = await Assert.ThrowsAsync<RedisServerException>(() => redis.EvalAsync(script, [a, b]));

        Assert.Equal("CROSSSLOT", error.ErrorCode);
    }

    [Fact]
    public async Task A_MOVED_after_a_slot_migration_is_followed_and_an_ASK_during_it_is_answered()
    {
        var options = await RedisTopology.ClusterOptionsAsync();
        await using var redis = await RedisClient.ConnectAsync(options);
        var cluster = (ClusterClient)redis;
        var key = TestKeys.Unique("migrating");
        var slot = HashSlot.Of(key);
        await redis.SetAsync(key, "moves");
        var source = await cluster.EndpointOfSlotAsync(slot, CancellationToken.None);   // the client now caches this owner
        var primaries = await PrimariesAsync();
        var target = primaries.Keys.First(e => e != source);
        var migration = new SlotMigration(slot, source, primaries[source], target, primaries[target]);

        try
        {
            // Half-way: the key is already on the target while the source still owns the slot -> ASK.
            await migration.BeginAsync();
            await migration.MoveKeysAsync();
            Assert.Equal("moves", await redis.GetStringAsync(key));
            Assert.Equal(source, await cluster.EndpointOfSlotAsync(slot, CancellationToken.None));   // ASK does not change the map

            // Done: the target owns the slot; the client's cached owner answers MOVED.
            await migration.FinishAsync(primaries);
            Assert.Equal("moves", await redis.GetStringAsync(key));
            Assert.Equal(target, await cluster.EndpointOfSlotAsync(slot, CancellationToken.None));   // MOVED corrected the map
            await redis.SetAsync(key, "written after the move");
            Assert.Equal("written after the move", await redis.GetStringAsync(key));
        }
        finally
        {
            // Give the slot back so the topology stays as the script made it.
            var back = new SlotMigration(slot, target, primaries[target], source, primaries[source]);
            await back.BeginAsync();
            await back.MoveKeysAsync();
            await back.FinishAsync(primaries);
        }
    }

    private static async Task<Dictionary<RedisEndpoint, string>> PrimariesAsync()
    {
        await using var node = await DirectAsync(RedisTopology.ClusterSeeds[0]);
        var nodes = (await node.ExecuteAsync(new RedisCommand("CLUSTER", ["NODES"]))).AsString()!;
        return nodes.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .Where(f => f[2].Contains("master", StringComparison.Ordinal))
            .ToDictionary(f => RedisEndpoint.Parse(f[1].Split('@')[0]), f => f[0]);
    }

    private static async Task<IRedisClient> DirectAsync(RedisEndpoint endpoint)
    {
        var options = new RedisOptions();
        options.Endpoints.Add(endpoint);
        return await RedisClient.ConnectAsync(options);
    }

    /// <summary>The steps redis-cli --cluster reshard takes, for one slot.</summary>
    private sealed record SlotMigration(int Slot, RedisEndpoint Source, string SourceId, RedisEndpoint Target, string TargetId)
    {
        public async Task BeginAsync()
        {
            await using var target = await DirectAsync(Target);
            await using var source = await DirectAsync(Source);
            await target.ExecuteAsync(new RedisCommand("CLUSTER", ["SETSLOT", Slot, "IMPORTING", SourceId]));
            await source.ExecuteAsync(new RedisCommand("CLUSTER", ["SETSLOT", Slot, "MIGRATING", TargetId]));
        }

        public async Task MoveKeysAsync()
        {
            await using var source = await DirectAsync(Source);
            var keys = await source.ExecuteAsync(new RedisCommand("CLUSTER", ["GETKEYSINSLOT", Slot, 1000]));
            if (keys.Count > 0)
            {
                await source.ExecuteAsync(new RedisCommand("MIGRATE", [Target.Host, Target.Port, "", 0, 5000, "KEYS", .. keys.Items.Select(k => (RedisArg)k.AsString()!)]));
            }
        }

        public async Task FinishAsync(Dictionary<RedisEndpoint, string> primaries)
        {
            foreach (var primary in new[] { Target, Source }.Concat(primaries.Keys).Distinct())
            {
                await using var node = await DirectAsync(primary);
                await node.ExecuteAsync(new RedisCommand("CLUSTER", ["SETSLOT", Slot, "NODE", TargetId]));
            }
        }
    }
}
