namespace Millrace;

/// <summary>
/// The backup producer: while Redis cannot be reached, publishes are written to a durable local
/// journal (fsync'd before the publish returns) and replayed in order, with their ids, when Redis
/// is back. Set <see cref="MillraceOptions.BackupJournal"/> to turn it on (config section
/// <c>Millrace:BackupJournal</c>); see docs/backup-producer.md.
/// </summary>
/// <example>
/// <code>
/// services.AddMillrace(o => o.BackupJournal = new BackupJournalOptions { Directory = "/var/lib/orders/journal" });
/// </code>
/// </example>
public sealed class BackupJournalOptions
{
    /// <summary>The directory of the journal files (created if missing). One process per directory: it is locked while open.</summary>
    public string Directory { get; set; } = "";

    /// <summary>The largest the journal file may grow; a publish that would pass it fails with <see cref="BackupJournalFullException"/>.</summary>
    public long MaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How often the replayer tries Redis again while the journal holds messages.</summary>
    public TimeSpan ReplayInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Messages replayed per round trip (and per progress checkpoint).</summary>
    public int ReplayBatchSize { get; set; } = 256;

    /// <summary>
    /// How long Redis remembers that a journaled message (one without a dedup key of its own) was
    /// replayed, so replaying it again after a crash adds nothing. A restart later than this after a
    /// crash mid-replay may add the last unrecorded batch twice.
    /// </summary>
    public TimeSpan ReplayDedupTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>What a publish does when Redis fails after the message may already have been sent (a timeout or a dropped connection).</summary>
    public AmbiguousPublishFailure AmbiguousFailure { get; set; } = AmbiguousPublishFailure.Journal;
}
