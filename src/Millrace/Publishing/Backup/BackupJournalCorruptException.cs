namespace Millrace;

/// <summary>
/// The backup journal holds a damaged record that is not a torn tail: replay stops there rather than
/// skip it. Move the journal directory aside (records before <see cref="Offset"/> are intact) to start over.
/// </summary>
public sealed class BackupJournalCorruptException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BackupJournalCorruptException(string path, long offset, string problem, Exception? inner = null)
        : base($"backup journal {path} is damaged at byte {offset}: {problem}. Replay stops here (nothing is skipped); " +
               $"records before byte {offset} are intact. Move the journal aside to start with an empty one.", inner)
    {
        Path = path;
        Offset = offset;
    }

    /// <summary>The journal file.</summary>
    public string Path { get; }

    /// <summary>Where the damaged record starts.</summary>
    public long Offset { get; }
}
