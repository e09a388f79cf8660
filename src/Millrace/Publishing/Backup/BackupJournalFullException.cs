namespace Millrace;

/// <summary>
/// The backup journal has no room for a publish: nothing of that publish was journaled (or sent).
/// It clears when Redis is reachable again and the journal has been replayed.
/// </summary>
public sealed class BackupJournalFullException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BackupJournalFullException(string path, long bytes, long maxBytes, long needed, DateTimeOffset? unreachableSince, string? replayStopped = null)
        : base(Describe(path, bytes, maxBytes, needed, unreachableSince, replayStopped))
    {
        Path = path;
        Bytes = bytes;
        MaxBytes = maxBytes;
        UnreachableSince = unreachableSince;
    }

    /// <summary>The journal file.</summary>
    public string Path { get; }

    /// <summary>Bytes the journal holds (or has promised to pending appends).</summary>
    public long Bytes { get; }

    /// <summary>The configured limit (<see cref="BackupJournalOptions.MaxBytes"/>).</summary>
    public long MaxBytes { get; }

    /// <summary>Since when Redis has been failing, when known (null: Redis answers again and the replay is catching up).</summary>
    public DateTimeOffset? UnreachableSince { get; }

    private static string Describe(string path, long bytes, long maxBytes, long needed, DateTimeOffset? since, string? replayStopped) =>
        $"backup journal {path} is full: {bytes} of {maxBytes} bytes (this publish needs {needed} more); " +
        (replayStopped is not null
            ? $"replay has stopped: {replayStopped}"
            : since is { } s
                ? $"Redis unreachable since {s:O}."
                : "Redis answers again and the journal is being replayed.") +
        " Nothing of this publish was journaled.";
}
