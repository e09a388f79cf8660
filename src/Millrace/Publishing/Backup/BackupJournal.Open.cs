using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Millrace;

internal sealed partial class BackupJournal
{
    /// <summary>The journal's file name inside the configured directory.</summary>
    public const string FileName = "journal.mrj";

    /// <summary>The checkpoint's file name inside the configured directory.</summary>
    public const string CheckpointFileName = "journal.checkpoint";

    /// <summary>
    /// Opens (or creates) the journal in <paramref name="directory"/> and checks every record. A torn
    /// tail (the last write cut short by a crash: it was never acknowledged) is cut off with a warning;
    /// a damaged record with intact data after it throws <see cref="BackupJournalCorruptException"/>.
    /// Replay resumes from the checkpoint; if records remain, the journal starts out journaling so
    /// new publishes queue up behind them.
    /// </summary>
    public static BackupJournal Open(string directory, long maxBytes, TimeProvider time, ILogger logger)
    {
        Directory.CreateDirectory(directory);
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, FileName));
        var file = OpenExclusive(path);
        JournalCheckpoint? checkpoint = null;
        try
        {
            checkpoint = JournalCheckpoint.Open(System.IO.Path.Combine(directory, CheckpointFileName));
            var journal = new BackupJournal(path, maxBytes, file, checkpoint, time, logger);
            journal.Load();
            return journal;
        }
        catch
        {
            checkpoint?.Dispose();
            file.Dispose();
            throw;
        }
    }

    private void Load()
    {
        var length = RandomAccess.GetLength(_file);
        if (length < HeaderBytes)
        {
            // New, or a header cut short while the file was being created (no record can follow an unwritten header).
            if (length > 0)
            {
                Log.HeaderRewritten(_logger, Path, length);
            }

            _generation = NewGeneration();
            WriteHeader(_generation);
            RandomAccess.SetLength(_file, HeaderBytes);
            RandomAccess.FlushToDisk(_file);
            length = HeaderBytes;
        }
        else
        {
            Span<byte> header = stackalloc byte[HeaderBytes];
            if (RandomAccess.Read(_file, header, 0) < HeaderBytes || !header[..4].SequenceEqual("MRJ1"u8))
            {
                throw new BackupJournalCorruptException(Path, 0, "the file does not start with a Millrace journal header (\"MRJ1\")");
            }

            var version = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            if (version != FormatVersion)
            {
                throw new BackupJournalCorruptException(Path, 0, $"journal format version {version} is not known to this version of Millrace (expected {FormatVersion})");
            }

            _generation = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        }

        var (recorded, unreadable) = (_checkpoint.Recorded, _checkpoint.WasUnreadable);
        var resumeAt = recorded is { } r && r.Generation == _generation ? r.Offset : HeaderBytes;
        if (unreadable)
        {
            Log.CheckpointUnreadable(_logger, _checkpoint.Path);
        }

        var (end, records, resumeFound) = Scan(length, resumeAt);
        if (end < length)
        {
            Log.TornTailCut(_logger, Path, end, length - end);
            RandomAccess.SetLength(_file, end);
            RandomAccess.FlushToDisk(_file);
            _reader.Reset();   // the scan's window still holds the cut bytes; appends will overwrite them
        }

        if (resumeAt > end)
        {
            // Only after an emptying whose header rewrite was lost in a crash: everything had been replayed.
            Log.CheckpointBeyondEnd(_logger, Path, resumeAt, end);
            resumeAt = end;
        }
        else if (!resumeFound)
        {
            throw new BackupJournalCorruptException(Path, resumeAt, $"the checkpoint ({_checkpoint.Path}) points inside a record, not at one");
        }

        _committedEnd = _reservedEnd = end;
        _replayedOffset = resumeAt;
        _journaling = resumeAt < end;
        if (_journaling)
        {
            _unreachableSince = FirstJournaledAt(resumeAt, end);
            Log.Resuming(_logger, Path, records, end - resumeAt, _unreachableSince);
        }
    }

    /// <summary>
    /// Walks every record. Returns where the good records end, how many there are, and whether
    /// <paramref name="resumeAt"/> is a record boundary. Decides torn tail (cut) against damage (throw).
    /// </summary>
    private (long End, long Records, bool ResumeFound) Scan(long length, long resumeAt)
    {
        long offset = HeaderBytes, records = 0;
        var resumeFound = resumeAt == HeaderBytes;
        while (true)
        {
            var status = _reader.Read(offset, length, out _, out var next);
            switch (status)
            {
                case JournalReadStatus.Record:
                    records++;
                    offset = next;
                    resumeFound |= offset == resumeAt;
                    continue;
                case JournalReadStatus.End:
                    return (offset, records, resumeFound);
                case JournalReadStatus.Truncated:
                    // The last write stopped part way: a process crash during write(). It was never fsync'd, so never acknowledged.
                    return (offset, records, resumeFound);
                case JournalReadStatus.BadChecksum when _reader.AllZero(next, length):
                    // The last record is whole in size but not in content (and only zeros follow): its pages
                    // were not all on disk when the machine stopped. It had not been fsync'd, so not acknowledged.
                    return (offset, records, resumeFound);
                case JournalReadStatus.BadLength when _reader.AllZero(offset, length):
                    // Space the file system extended but never filled before a crash.
                    return (offset, records, resumeFound);
                default:
                    throw new BackupJournalCorruptException(Path, offset,
                        status == JournalReadStatus.BadLength
                            ? "a record length is zero or impossibly large, and data follows it"
                            : $"a record's checksum does not match, and {length - next} bytes follow it");
            }
        }
    }

    private DateTimeOffset? FirstJournaledAt(long offset, long end)
    {
        if (_reader.Read(offset, end, out var payload, out _) != JournalReadStatus.Record)
        {
            return null;
        }

        try
        {
            JournalRecordCodec.Read(payload.Span, out var journaledAt);
            return journaledAt;
        }
        catch (FormatException e)
        {
            throw new BackupJournalCorruptException(Path, offset, $"a record cannot be decoded ({e.Message})", e);
        }
    }

    private void WriteHeader(long generation)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        "MRJ1"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], FormatVersion);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], generation);
        RandomAccess.Write(_file, header, 0);
    }

    private static long NewGeneration() => Random.Shared.NextInt64(1, long.MaxValue);

    private static partial class Log
    {
        [LoggerMessage(901, LogLevel.Warning, "Backup journal {Path}: cut a torn tail of {Bytes} bytes at byte {Offset} (a write cut short by a crash; it had not been acknowledged)")]
        public static partial void TornTailCut(ILogger logger, string path, long offset, long bytes);

        [LoggerMessage(902, LogLevel.Warning, "Backup journal {Path}: the header was only {Bytes} bytes (cut short while the file was created); it was written anew")]
        public static partial void HeaderRewritten(ILogger logger, string path, long bytes);

        [LoggerMessage(903, LogLevel.Warning, "Backup journal checkpoint {Path} could not be read; replay starts from the first record (already-replayed messages are recognised by their dedup keys)")]
        public static partial void CheckpointUnreadable(ILogger logger, string path);

        [LoggerMessage(904, LogLevel.Warning, "Backup journal {Path}: the checkpoint (byte {Checkpoint}) is past the end ({End}); the journal was emptied just before a crash, nothing is left to replay")]
        public static partial void CheckpointBeyondEnd(ILogger logger, string path, long checkpoint, long end);

        [LoggerMessage(905, LogLevel.Warning, "Backup journal {Path} holds {Records} records, {Bytes} bytes of them not yet replayed (journaled since {Since:O}); new publishes are journaled behind them until replay catches up")]
        public static partial void Resuming(ILogger logger, string path, long records, long bytes, DateTimeOffset? since);
    }
}
