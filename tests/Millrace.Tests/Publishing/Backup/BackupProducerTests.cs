using System.Diagnostics;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;
using Xunit.Abstractions;
using static Millrace.Tests.Publishing.Backup.BackupKit;

namespace Millrace.Tests.Publishing.Backup;

/// <summary>
/// The backup producer against a real, private redis-server that the tests stop and start:
/// publishes during an outage are journaled (fsync'd) and replayed in order with their ids, once.
/// </summary>
public sealed class BackupProducerTests(ITestOutputHelper output)
{
    private const string Queue = "orders";

    [Fact]
    public async Task Given_Redis_stopped_When_10000_messages_are_published_Then_after_restart_all_arrive_in_publish_order_once_with_their_ids()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var directory = NewDirectory();
        await using var host = await StartHostAsync(server, directory, prefix: null);
        await server.KillAsync();

        // Mixed: 10 single publishes then a batch of 90, a hundred times; every 7th message has the caller's own id.
        var results = new List<PublishResult>(10_000);
        var watch = Stopwatch.StartNew();
        for (var sequence = 0; sequence < 10_000;)
        {
            for (var single = 0; single < 10; single++, sequence++)
            {
                results.Add(await host.Publisher.PublishAsync(WithId(sequence)));
            }

            var batch = Enumerable.Range(sequence, 90).Select(WithId).ToArray();
            results.AddRange(await host.Publisher.PublishBatchAsync(batch));
            sequence += 90;
        }

        var journaling = watch.Elapsed;
        Assert.All(results, r => Assert.True(r.Journaled && r.StreamId is null, $"message {r.MessageId} was not journaled"));
        Assert.Equal(10_000, results.Select(r => r.MessageId).Distinct().Count());
        Assert.Equal("own-7", results[7].MessageId);
        Assert.True(Journal(host).State.UnreplayedBytes > 0);

        await server.StartAgainAsync();
        watch.Restart();
        await Eventually.GetAsync(() => LengthAsync(host.Redis, host.Prefix, Queue), n => n >= 10_000, TimeSpan.FromSeconds(60), "10,000 replayed messages in the stream");
        var replaying = watch.Elapsed;
        await WaitUntilReplayedAsync(host, TimeSpan.FromSeconds(30));

        var stream = await StreamAsync(host.Redis, host.Prefix, Queue);
        Assert.Equal(results.Select(r => r.MessageId), stream.Select(e => e.Id));   // same ids, same order, none twice, none missing
        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), stream.Select(e => e.Payload));

        // Replayed: publishing goes straight to Redis again, and the journal is empty.
        var direct = await host.Publisher.PublishAsync(Message(Queue, 10_000));
        Assert.False(direct.Journaled);
        Assert.NotNull(direct.StreamId);
        Assert.Equal(BackupJournal.HeaderBytes, new FileInfo(Path.Combine(directory, BackupJournal.FileName)).Length);
        output.WriteLine($"{{\"journaled\":10000,\"journal_seconds\":{journaling.TotalSeconds:F2},\"replay_seconds\":{replaying.TotalSeconds:F2}}}");

        static OutgoingMessage WithId(int sequence) => sequence % 7 == 0
            ? new OutgoingMessage { Queue = Queue, Type = JobType, Payload = Message(Queue, sequence).Payload, Id = $"own-{sequence}" }
            : Message(Queue, sequence);
    }

    [Fact]
    public async Task Given_a_journal_being_replayed_When_more_messages_are_published_Then_they_arrive_after_the_journaled_ones_in_order_and_publishing_goes_direct_again()
    {
        await using var server = await RedisServerProcess.StartAsync();
        await using var host = await StartHostAsync(server, NewDirectory(), prefix: null, j => j.ReplayBatchSize = 8);
        await server.KillAsync();
        var results = new List<PublishResult>();
        for (var sequence = 0; sequence < 2_000; sequence += 50)
        {
            results.AddRange(await host.Publisher.PublishBatchAsync(Enumerable.Range(sequence, 50).Select(i => Message(Queue, i)).ToArray()));
        }

        await server.StartAgainAsync();

        // Keep publishing while the replayer works through the journal (8 messages per round trip), until a publish goes direct.
        var sequenceNow = 2_000;
        var journaledDuringReplay = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var result = sequenceNow % 3 == 0
                ? (await host.Publisher.PublishBatchAsync([Message(Queue, sequenceNow), Message(Queue, sequenceNow + 1)])).ToArray()
                : [await host.Publisher.PublishAsync(Message(Queue, sequenceNow))];
            results.AddRange(result);
            sequenceNow += result.Length;
            if (!result[^1].Journaled)
            {
                break;
            }

            journaledDuringReplay += result.Length;
            Assert.True(DateTime.UtcNow < deadline, "publishing never went direct again after Redis came back");
        }

        // A few more direct ones after the switch.
        for (var i = 0; i < 20; i++, sequenceNow++)
        {
            var result = await host.Publisher.PublishAsync(Message(Queue, sequenceNow));
            Assert.False(result.Journaled);
            results.Add(result);
        }

        await Eventually.GetAsync(() => LengthAsync(host.Redis, host.Prefix, Queue), n => n >= results.Count, TimeSpan.FromSeconds(30), $"{results.Count} messages in the stream");
        var stream = await StreamAsync(host.Redis, host.Prefix, Queue);
        Assert.Equal(results.Select(r => r.MessageId), stream.Select(e => e.Id));
        Assert.Equal(Enumerable.Range(0, results.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), stream.Select(e => e.Payload));
        output.WriteLine($"journaled while down: 2000; journaled while the replay ran: {journaledDuringReplay}; direct after: {results.Count(r => !r.Journaled)}");
    }

    [Fact]
    public async Task Given_eight_concurrent_publishers_When_Redis_comes_back_while_they_publish_Then_each_publisher_order_is_kept_with_nothing_lost_or_doubled()
    {
        await using var server = await RedisServerProcess.StartAsync();
        await using var host = await StartHostAsync(server, NewDirectory(), prefix: null, j => j.ReplayBatchSize = 16);
        await server.KillAsync();
        var results = new List<PublishResult>[8];
        var wentDirect = new bool[8];
        var restarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var publishers = Enumerable.Range(0, 8).Select(p => Task.Run(async () =>
        {
            results[p] = [];
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            for (var i = 0; !(restarted.Task.IsCompleted && wentDirect[p] && i >= 400); i++)
            {
                var result = await host.Publisher.PublishAsync(Message(Queue, (p * 1_000_000) + i));
                results[p].Add(result);
                wentDirect[p] |= restarted.Task.IsCompleted && !result.Journaled;
                Assert.True(DateTime.UtcNow < deadline, $"publisher {p} never went direct again");
            }
        })).ToArray();

        await Eventually.GetAsync(() => Task.FromResult(results.Where(r => r is not null).Sum(r => r.Count)), n => n >= 800, TimeSpan.FromSeconds(30), "800 journaled publishes");
        await server.StartAgainAsync();
        restarted.SetResult();
        await Task.WhenAll(publishers);

        var total = results.Sum(r => r.Count);
        await Eventually.GetAsync(() => LengthAsync(host.Redis, host.Prefix, Queue), n => n >= total, TimeSpan.FromSeconds(30), $"{total} messages in the stream");
        var stream = await StreamAsync(host.Redis, host.Prefix, Queue);
        Assert.Equal(total, stream.Count);
        Assert.Equal(results.SelectMany(r => r).Select(r => r.MessageId).Order(), stream.Select(e => e.Id).Order());
        foreach (var group in stream.GroupBy(e => int.Parse(e.Payload, System.Globalization.CultureInfo.InvariantCulture) / 1_000_000))
        {
            Assert.Equal(results[group.Key].Select(r => r.MessageId), group.Select(e => e.Id));   // this publisher's order
        }

        output.WriteLine($"{total} messages from 8 publishers, {results.Sum(r => r.Count(x => x.Journaled))} journaled");
    }

    [Fact]
    public async Task Given_replay_stuck_on_a_refused_record_When_the_process_restarts_twice_Then_replay_resumes_without_loss_or_duplicates()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var directory = NewDirectory();
        var prefix = $"t{Guid.NewGuid():N}";
        var results = new List<PublishResult>();

        // Process A: Redis is down for its whole life; it journals 3,000 orders with one "side" message after the first 1,000.
        await using (var a = await StartHostAsync(server, directory, prefix, j => j.ReplayBatchSize = 64))
        {
            await server.KillAsync();
            for (var sequence = 0; sequence < 3_000; sequence += 100)
            {
                results.AddRange(await a.Publisher.PublishBatchAsync(Enumerable.Range(sequence, 100).Select(i => Message(Queue, i)).ToArray()));
                if (sequence == 900)
                {
                    Assert.True((await a.Publisher.PublishAsync(Message("side", -1))).Journaled);
                }
            }
        }

        await server.StartAgainAsync();
        await using (var redis = await RedisClient.ConnectAsync(OptionsFor(server)))
        {
            // The side queue's stream key holds a string: Redis refuses that record with WRONGTYPE.
            var sideStream = new QueueKeys(prefix, "side", 1).Stream(0);
            await redis.ExecuteAsync(new RedisCommand("SET", [sideStream, "not a stream"]));

            // Process B: replays up to the refused record, and keeps retrying that batch (it is never skipped).
            await using (var b = await StartHostAsync(server, directory, prefix, j => j.ReplayBatchSize = 64))
            {
                await Eventually.GetAsync(() => LengthAsync(redis, prefix, Queue), n => n >= 1_000, TimeSpan.FromSeconds(30), "the orders before the refused record");
                await Task.Delay(500);   // several retry rounds (interval 100 ms): the replay must not get past the refused record
                var stuckAt = await LengthAsync(redis, prefix, Queue);
                Assert.InRange(stuckAt, 1_000, 1_063);   // at most the rest of the refused record's batch of 64 went in
                Assert.True(Journal(b).State.Journaling);
                output.WriteLine($"replay stuck with {stuckAt} orders in Redis; the process restarts");
            }

            // Process C: the obstacle is gone; replay resumes from the checkpoint. The refused batch is sent again and
            // its orders that Redis had already added are recognised by their dedup keys.
            await redis.ExecuteAsync(new RedisCommand("DEL", [sideStream]));
            await using var c = await StartHostAsync(server, directory, prefix, j => j.ReplayBatchSize = 64);
            await WaitUntilReplayedAsync(c, TimeSpan.FromSeconds(60));
            var stream = await StreamAsync(redis, prefix, Queue);
            Assert.Equal(results.Select(r => r.MessageId), stream.Select(e => e.Id));
            var sideMessages = await StreamAsync(redis, prefix, "side");
            Assert.Equal(["-1"], sideMessages.Select(e => e.Payload));
        }
    }

    [Fact]
    public async Task Given_a_small_journal_When_it_fills_during_an_outage_Then_the_publish_fails_clearly_nothing_of_it_is_journaled_and_the_rest_arrive()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var directory = NewDirectory();
        await using var host = await StartHostAsync(server, directory, prefix: null, j => j.MaxBytes = 64 * 1024, m => m.Services.Configure<MillraceOptions>(o => o.MaxPayloadBytes = 16 * 1024));
        await server.KillAsync();

        var accepted = new List<PublishResult>();
        BackupJournalFullException? full = null;
        for (var sequence = 0; full is null; sequence++)
        {
            var message = new OutgoingMessage { Queue = Queue, Type = JobType, Payload = new byte[1000], Id = $"m{sequence}" };
            try
            {
                accepted.Add(await host.Publisher.PublishAsync(message));
            }
            catch (BackupJournalFullException e)
            {
                full = e;
            }

            Assert.True(sequence < 100, "64 KiB of journal took more than 100 messages of 1 KB");
        }

        var file = Path.Combine(directory, BackupJournal.FileName);
        var sizeWhenFull = new FileInfo(file).Length;
        Assert.Contains($"backup journal {Path.GetFullPath(file)} is full: ", full.Message);
        Assert.Contains(" of 65536 bytes", full.Message);
        Assert.Contains("Redis unreachable since ", full.Message);
        Assert.Contains("Nothing of this publish was journaled", full.Message);

        // A batch that does not fit as a whole is refused as a whole, even if some of it would fit.
        var room = 65536 - sizeWhenFull;
        var batch = Enumerable.Range(0, 3).Select(i => new OutgoingMessage { Queue = Queue, Type = JobType, Payload = new byte[(int)Math.Max(1, room / 2)], Id = $"b{i}" }).ToArray();
        await Assert.ThrowsAsync<BackupJournalFullException>(() => host.Publisher.PublishBatchAsync(batch));
        Assert.Equal(sizeWhenFull, new FileInfo(file).Length);
        Assert.Equal(sizeWhenFull, Journal(host).State.Bytes);

        await server.StartAgainAsync();
        await WaitUntilReplayedAsync(host, TimeSpan.FromSeconds(30));
        var stream = await StreamAsync(host.Redis, host.Prefix, Queue);
        Assert.Equal(accepted.Select(r => r.MessageId), stream.Select(e => e.Id));
        var after = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = JobType, Payload = new byte[1000] });
        Assert.False(after.Journaled);
        output.WriteLine($"journal full after {accepted.Count} messages of 1 KB: {full.Message}");
    }

    [Fact]
    public async Task Given_Redis_stopped_When_delayed_and_partitioned_messages_are_journaled_Then_they_keep_their_due_time_and_land_in_the_partition_reported()
    {
        await using var server = await RedisServerProcess.StartAsync();
        await using var host = await StartHostAsync(server, NewDirectory(), prefix: null, configure: m => m.AddQueue("spread", q => q.Partitions = 4));
        await server.KillAsync();

        var delayed = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = JobType, Payload = "later"u8.ToArray(), Delay = TimeSpan.FromHours(1) });
        var spread = await host.Publisher.PublishBatchAsync(Enumerable.Range(0, 40).Select(i => Message("spread", i, partitionKey: i % 5 == 0 ? $"customer-{i}" : null)).ToArray());
        Assert.True(delayed.Journaled);
        var due = Assert.NotNull(delayed.DeliverAt);

        await server.StartAgainAsync();
        await WaitUntilReplayedAsync(host, TimeSpan.FromSeconds(30));

        // The delay counted from the publish, not from the replay: the delayed set holds the due time reported then.
        var score = await host.Redis.ExecuteAsync(new RedisCommand("ZSCORE", [new QueueKeys(host.Prefix, Queue, 1).Delayed(0), delayed.MessageId]));
        Assert.Equal(due.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), score.AsString());
        var found = new Dictionary<string, int>();
        for (var partition = 0; partition < 4; partition++)
        {
            foreach (var entry in await StreamAsync(host.Redis, host.Prefix, "spread", partitions: 4, partition: partition))
            {
                found.Add(entry.Id, partition);
            }
        }

        Assert.Equal(spread.ToDictionary(r => r.MessageId, r => r.Partition), found);
        Assert.True(found.Values.Distinct().Count() > 1, "all 40 messages went to one partition");
    }

    [Fact]
    public async Task Given_a_journal_damaged_in_the_middle_When_the_host_starts_Then_it_refuses_to_start_with_the_offset()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var directory = NewDirectory();
        using (var journal = BackupJournal.Open(directory, 1 << 20, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance))
        {
            await journal.AppendAsync([new OutgoingMessage { Queue = Queue, Type = JobType, Id = "a" }, new OutgoingMessage { Queue = Queue, Type = JobType, Id = "b" }], false, default);
        }

        var path = Path.Combine(directory, BackupJournal.FileName);
        var bytes = File.ReadAllBytes(path);
        bytes[BackupJournal.HeaderBytes + 12] ^= 1;   // inside the first record; the second follows intact
        File.WriteAllBytes(path, bytes);

        // Not disposed: Host.StopAsync throws ArgumentNullException on a host whose start failed.
        var host = await StartHostAsync(server, directory, prefix: null, start: false);
        var error = await Assert.ThrowsAsync<BackupJournalCorruptException>(() => host.StartHostAsync());

        Assert.Equal(BackupJournal.HeaderBytes, error.Offset);
        Assert.Equal(bytes.Length, new FileInfo(path).Length);
    }

    [Fact]
    public async Task Given_Redis_up_When_publishing_through_the_backup_producer_Then_messages_go_straight_to_Redis_and_nothing_is_journaled()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var directory = NewDirectory();
        await using var host = await StartHostAsync(server, directory, prefix: null);

        var single = await host.Publisher.PublishAsync(Message(Queue, 0));
        var batch = await host.Publisher.PublishBatchAsync([Message(Queue, 1), Message(Queue, 2)]);
        var duplicate = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = JobType, DedupKey = "k" });
        var again = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = JobType, DedupKey = "k" });

        Assert.All(batch.Append(single).Append(duplicate), r => Assert.True(!r.Journaled && r.StreamId is not null));
        Assert.True(again.Duplicate);
        Assert.Equal(duplicate.MessageId, again.MessageId);
        Assert.Equal(4, await LengthAsync(host.Redis, host.Prefix, Queue));
        Assert.False(Journal(host).State.Journaling);
        Assert.Equal(BackupJournal.HeaderBytes, new FileInfo(Path.Combine(directory, BackupJournal.FileName)).Length);
    }

    [Fact]
    public async Task Given_an_ambiguous_timeout_When_the_policy_is_Journal_Then_the_message_is_kept_and_may_arrive_twice_with_one_id_unless_it_has_a_dedup_key()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var redisOptions = OptionsFor(server);
        redisOptions.CommandTimeout = TimeSpan.FromSeconds(2);
        var prefix = $"t{Guid.NewGuid():N}";
        await using var host = await TestHost.StartAsync(m => m.Services.Configure<MillraceOptions>(o =>
            o.BackupJournal = new BackupJournalOptions { Directory = NewDirectory(), ReplayInterval = TimeSpan.FromMilliseconds(100) }), prefix, redisOptions);
        await using var admin = await RedisClient.ConnectAsync(OptionsFor(server));

        // Warm-up: the queue is declared and the dedup script loaded, so the batch below is sent as it is.
        await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = JobType, Payload = "0"u8.ToArray(), DedupKey = "warm-up" });

        // CLIENT PAUSE WRITE: the batch is sent and gets no answer within the timeout. It runs when the pause ends
        // if its connection is still open then (the client drops a connection silent for twice the timeout,
        // and Redis discards what a closed connection had not yet run): so it may or may not have run.
        // Times out at 2 to 2.4 s, the pause ends at 3 s, a silent connection would be dropped after 4 s.
        await admin.ExecuteAsync(new RedisCommand("CLIENT", ["PAUSE", "3000", "WRITE"]));
        var sent = await host.Publisher.PublishBatchAsync([Message(Queue, 1), new OutgoingMessage { Queue = Queue, Type = JobType, Payload = "2"u8.ToArray(), DedupKey = "order-2" }]);
        var (plain, deduplicated) = (sent[0], sent[1]);
        Assert.True(plain.Journaled && deduplicated.Journaled);

        await WaitUntilReplayedAsync(host, TimeSpan.FromSeconds(30));
        var stream = await StreamAsync(host.Redis, prefix, Queue);
        // Never lost. The documented cost: the plain one may be there twice, always with its one id; the one with a dedup key, once.
        var plainCopies = stream.Where(e => e.Payload == "1").Select(e => e.Id).ToList();
        Assert.InRange(plainCopies.Count, 1, 2);
        Assert.All(plainCopies, id => Assert.Equal(plain.MessageId, id));
        Assert.Equal([deduplicated.MessageId], stream.Where(e => e.Payload == "2").Select(e => e.Id));
        output.WriteLine($"the ambiguous plain message arrived {plainCopies.Count} time(s); the deduplicated one once");
    }

    [Fact]
    public async Task Given_an_ambiguous_timeout_When_the_policy_is_Throw_Then_the_caller_gets_the_error_and_nothing_is_journaled()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var redisOptions = OptionsFor(server);
        redisOptions.CommandTimeout = TimeSpan.FromMilliseconds(1000);
        await using var host = await TestHost.StartAsync(m => m.Services.Configure<MillraceOptions>(o =>
            o.BackupJournal = new BackupJournalOptions { Directory = NewDirectory(), AmbiguousFailure = AmbiguousPublishFailure.Throw }), null, redisOptions);
        await using var admin = await RedisClient.ConnectAsync(OptionsFor(server));

        await host.Publisher.PublishAsync(Message(Queue, 0));   // warm-up: connected and the queue declared
        await admin.ExecuteAsync(new RedisCommand("CLIENT", ["PAUSE", "3000", "WRITE"]));
        await Assert.ThrowsAsync<RedisTimeoutException>(() => host.Publisher.PublishAsync(Message(Queue, 1)));
        Assert.False(Journal(host).State.Journaling);
        Assert.Equal(BackupJournal.HeaderBytes, Journal(host).State.Bytes);
    }
}
