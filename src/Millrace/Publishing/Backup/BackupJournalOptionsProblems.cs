namespace Millrace;

/// <summary>The start-time checks of <see cref="BackupJournalOptions"/> (part of MillraceOptionsValidator); each names the setting.</summary>
internal static class BackupJournalOptionsProblems
{
    /// <summary>The smallest journal allowed: room for a few records.</summary>
    public const long MinBytes = 64 * 1024;

    public static IEnumerable<string> Of(MillraceOptions options)
    {
        if (options.BackupJournal is not { } journal)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(journal.Directory))
        {
            yield return "Millrace:BackupJournal:Directory is empty; give the directory the journal is kept in (one per process).";
        }

        if (journal.MaxBytes < MinBytes)
        {
            yield return $"Millrace:BackupJournal:MaxBytes is {journal.MaxBytes}; it must be at least {MinBytes}.";
        }
        else if (journal.MaxBytes < options.MaxPayloadBytes + 1024L)
        {
            yield return $"Millrace:BackupJournal:MaxBytes is {journal.MaxBytes}, below one largest message (MaxPayloadBytes {options.MaxPayloadBytes} plus its record); raise it or lower MaxPayloadBytes.";
        }

        if (journal.ReplayInterval <= TimeSpan.Zero || journal.ReplayInterval > TimeSpan.FromMinutes(10))
        {
            yield return $"Millrace:BackupJournal:ReplayInterval is {journal.ReplayInterval}; allowed above 0 and up to 10 minutes.";
        }

        if (journal.ReplayBatchSize is < 1 or > 10_000)
        {
            yield return $"Millrace:BackupJournal:ReplayBatchSize is {journal.ReplayBatchSize}; allowed 1 to 10000.";
        }

        if (journal.ReplayDedupTtl < TimeSpan.FromSeconds(1))
        {
            yield return $"Millrace:BackupJournal:ReplayDedupTtl is {journal.ReplayDedupTtl}; it must be at least 1 second (it guards against replaying a batch twice after a crash).";
        }

        if (!Enum.IsDefined(journal.AmbiguousFailure))
        {
            yield return $"Millrace:BackupJournal:AmbiguousFailure is {journal.AmbiguousFailure}; use Journal or Throw.";
        }
    }
}
