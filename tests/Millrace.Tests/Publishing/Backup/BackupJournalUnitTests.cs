using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Millrace.Tests.Publishing.Backup;

/// <summary>The journal file on its own (no Redis): group commit, the size bound, torn tails, damage, checkpoints, restart.</summary>
public sealed class BackupJournalUnitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Given_appends_When_the_journal_is_reopened_Then_every_record_is_read_back_in_order()
    {
        var directory = BackupKit.NewDirectory();
        using (var journal = Open(directory))
        {
            await journal.AppendAsync([Record(0)], onlyWhileJournaling: false, default);
            await journal.AppendAsync([Record(1), Record(2), Record(3)], onlyWhileJournaling: true, default);
            Assert.True(journal.IsJournaling);
        }

        using var reopened = Open(directory);

        Assert.True(reopened.IsJournaling);   // unreplayed records: new publishes must queue behind them
        Assert.Equal(["0", "1", "2", "3"], Payloads(reopened.ReadBatch(100, long.MaxValue)));
    }

    [Fact]
    public async Task Given_many_concurrent_appends_When_they_are_group_committed_Then_each_record_is_there_exactly_once_and_each_caller_order_is_kept()
    {
        using var journal = Open(BackupKit.NewDirectory());
        await journal.AppendAsync([Record(-1)], false, default);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await journal.AppendAsync([Record((writer * 1000) + i)], true, default);
            }
        })));

        var payloads = Payloads(journal.ReadBatch(10_000, long.MaxValue)).Skip(1).Select(int.Parse).ToList();
        Assert.Equal(400, payloads.Count);
        Assert.Equal(400, payloads.Distinct().Count());
        foreach (var writer in payloads.GroupBy(p => p / 1000))
        {
            Assert.Equal(writer.OrderBy(p => p), writer);
        }
    }

    [Fact]
    public async Task Given_a_journal_near_its_limit_When_an_append_does_not_fit_Then_it_throws_a_clear_error_and_journals_none_of_it()
    {
        var directory = BackupKit.NewDirectory();
        using var journal = Open(directory, maxBytes: 4096);
        var since = DateTimeOffset.Parse("2026-11-22T04:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        journal.MarkUnreachable(since);
        while (journal.State.Bytes < 3000)
        {
            await journal.AppendAsync([Record(1, payloadBytes: 200)], false, default);
        }

        var before = journal.State.Bytes;
        var full = await Assert.ThrowsAsync<BackupJournalFullException>(() => journal.AppendAsync([Record(2, 400), Record(3, 400), Record(4, 400)], true, default));

        Assert.Equal($"backup journal {journal.Path} is full: {before} of 4096 bytes (this publish needs {full.Message.Split("needs ")[1].Split(' ')[0]} more); " +
            $"Redis unreachable since {since:O}. Nothing of this publish was journaled.", full.Message);
        Assert.Equal((before, 4096L, (DateTimeOffset?)since), (full.Bytes, full.MaxBytes, full.UnreachableSince));
        Assert.Equal(before, journal.State.Bytes);
        Assert.Equal(before, new FileInfo(journal.Path).Length);
        await journal.AppendAsync([Record(5, payloadBytes: 10)], true, default);   // what fits still goes in
    }

    [Fact]
    public async Task Given_a_crash_in_the_middle_of_the_last_write_When_the_journal_opens_Then_the_torn_tail_is_cut_with_a_warning_and_the_rest_is_kept()
    {
        var directory = BackupKit.NewDirectory();
        using (var journal = Open(directory))
        {
            await journal.AppendAsync([Record(0), Record(1), Record(2)], false, default);
        }

        var path = Path.Combine(directory, BackupJournal.FileName);
        var whole = new FileInfo(path).Length;
        using (var file = new FileStream(path, FileMode.Open))
        {
            file.SetLength(whole - 5);   // the last record lost its final bytes
        }

        var logger = new ListLogger();
        using var reopened = BackupJournal.Open(directory, 1 << 20, TimeProvider.System, logger);

        Assert.Equal(["0", "1"], Payloads(reopened.ReadBatch(100, long.MaxValue)));
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("cut a torn tail", StringComparison.Ordinal));
        Assert.True(new FileInfo(path).Length < whole - 5);
        await reopened.AppendAsync([Record(3)], true, default);   // appends continue after the last good record
        Assert.Equal(["0", "1", "3"], Payloads(reopened.ReadBatch(100, long.MaxValue)));
    }

    [Fact]
    public async Task Given_a_last_record_whose_bytes_never_reached_the_disk_When_the_journal_opens_Then_it_is_cut_as_a_torn_tail()
    {
        var directory = BackupKit.NewDirectory();
        using (var journal = Open(directory))
        {
            await journal.AppendAsync([Record(0), Record(1)], false, default);
        }

        var path = Path.Combine(directory, BackupJournal.FileName);
        var bytes = File.ReadAllBytes(path);
        bytes.AsSpan(bytes.Length - 6).Clear();   // the end of the last record is zeros, as after a power cut
        File.WriteAllBytes(path, [.. bytes, .. new byte[512]]);

        using var reopened = Open(directory);

        Assert.Equal(["0"], Payloads(reopened.ReadBatch(100, long.MaxValue)));
    }

    [Fact]
    public async Task Given_a_damaged_record_in_the_middle_When_the_journal_opens_Then_it_refuses_loudly_naming_the_offset_and_skips_nothing()
    {
        var directory = BackupKit.NewDirectory();
        long secondRecordAt;
        using (var journal = Open(directory))
        {
            await journal.AppendAsync([Record(0)], false, default);
            secondRecordAt = journal.State.Bytes;
            await journal.AppendAsync([Record(1), Record(2)], true, default);
        }

        var path = Path.Combine(directory, BackupJournal.FileName);
        var bytes = File.ReadAllBytes(path);
        bytes[secondRecordAt + 20] ^= 0x40;   // one flipped bit inside record 1; record 2 follows intact
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<BackupJournalCorruptException>(() => Open(directory));

        Assert.Equal(secondRecordAt, error.Offset);
        Assert.Contains($"is damaged at byte {secondRecordAt}", error.Message);
        Assert.Contains("nothing is skipped", error.Message);
        Assert.Equal(bytes.Length, new FileInfo(path).Length);   // nothing was cut
    }

    [Fact]
    public async Task Given_replay_progress_When_the_process_restarts_Then_replay_resumes_after_the_last_recorded_batch()
    {
        var directory = BackupKit.NewDirectory();
        using (var journal = Open(directory))
        {
            await journal.AppendAsync(Enumerable.Range(0, 10).Select(i => Record(i)).ToArray(), false, default);
            journal.RecordReplayed(journal.ReadBatch(4, long.MaxValue));
            var unrecorded = journal.ReadBatch(3, long.MaxValue);   // read (maybe sent) but not recorded: a crash here
            Assert.Equal(["4", "5", "6"], Payloads(unrecorded));
        }

        using var reopened = Open(directory);

        Assert.True(reopened.IsJournaling);
        Assert.Equal(["4", "5", "6", "7", "8", "9"], Payloads(reopened.ReadBatch(100, long.MaxValue)));
    }

    [Fact]
    public async Task Given_everything_replayed_When_the_replayer_finishes_Then_the_journal_is_emptied_and_publishing_goes_direct_even_after_a_restart()
    {
        var directory = BackupKit.NewDirectory();
        using (var journal = Open(directory))
        {
            await journal.AppendAsync([Record(0), Record(1)], false, default);
            Assert.False(await journal.TryFinishAsync(default));   // records left: not yet
            journal.RecordReplayed(journal.ReadBatch(100, long.MaxValue));

            Assert.True(await journal.TryFinishAsync(default));
            Assert.False(journal.IsJournaling);
            Assert.False(await journal.AppendAsync([Record(2)], onlyWhileJournaling: true, default));   // goes direct instead
            Assert.Equal(BackupJournal.HeaderBytes, new FileInfo(journal.Path).Length);
        }

        using var reopened = Open(directory);
        Assert.False(reopened.IsJournaling);
        Assert.Empty(reopened.ReadBatch(100, long.MaxValue).Messages);
    }

    [Fact]
    public async Task Given_a_journal_open_in_one_place_When_another_opens_the_same_directory_Then_it_is_refused_clearly()
    {
        var directory = BackupKit.NewDirectory();
        using var journal = Open(directory);
        await journal.AppendAsync([Record(0)], false, default);

        var error = Assert.Throws<IOException>(() => Open(directory));

        Assert.Contains("another process using this journal directory", error.Message);
    }

    [Fact]
    public async Task Given_fsync_per_append_When_appending_singles_and_batches_Then_all_records_land_and_the_rates_are_printed()
    {
        using var journal = Open(BackupKit.NewDirectory(), maxBytes: 64L << 20);
        var payload = new byte[100];
        var watch = Stopwatch.StartNew();
        var singles = 0;
        // Fixed counts, not fixed time: on a fast disk a timed loop would fill the journal.
        while (singles < 300)
        {
            await journal.AppendAsync([Record(singles++, payload.Length)], singles > 1, default);
        }

        var singleRate = singles / watch.Elapsed.TotalSeconds;
        watch.Restart();
        var batches = 0;
        while (batches < 100)
        {
            await journal.AppendAsync(Enumerable.Range(0, 100).Select(i => Record(i, payload.Length)).ToArray(), true, default);
            batches++;
        }

        var batchRate = batches * 100 / watch.Elapsed.TotalSeconds;
        watch.Restart();
        var concurrent = new ConcurrentBag<int>();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await journal.AppendAsync([Record(i, payload.Length)], true, default);
                concurrent.Add(i);
            }
        })));
        var concurrentRate = concurrent.Count / watch.Elapsed.TotalSeconds;

        Assert.Equal(singles + (batches * 100) + concurrent.Count, journal.ReadBatch(int.MaxValue, long.MaxValue).Messages.Count);
        output.WriteLine($"{{\"record_bytes\":100,\"single_appends_per_s\":{singleRate:F0},\"batch100_messages_per_s\":{batchRate:F0},\"concurrent16_single_appends_per_s\":{concurrentRate:F0}}}");
    }

    private static BackupJournal Open(string directory, long maxBytes = 1 << 20) =>
        BackupJournal.Open(directory, maxBytes, TimeProvider.System, NullLogger.Instance);

    private static OutgoingMessage Record(int sequence, int payloadBytes = 0) => new()
    {
        Queue = "orders",
        Type = "t",
        Id = $"id-{sequence}",
        Payload = payloadBytes == 0 ? Encoding.ASCII.GetBytes(sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)) : new byte[payloadBytes],
    };

    private static string[] Payloads(JournalBatch batch) => batch.Messages.Select(m => Encoding.ASCII.GetString(m.Payload.Span)).ToArray();

    private sealed class ListLogger : ILogger
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
