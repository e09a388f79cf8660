using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Millrace;

/// <summary>
/// The backup producer's local journal: an append-only file of records (see <see cref="JournalRecordCodec"/>)
/// after a 16-byte header (<c>"MRJ1" | version u32 | generation u64</c>), plus a checkpoint file
/// saying how much of it is already in Redis.
/// <para>
/// Appends use group commit: each call encodes its records into one buffer and queues it; whoever
/// holds the write gate writes everything queued with one positional write and one fsync, then
/// completes every caller it wrote for. A call returns only after its fsync, so a journaled message
/// survives a crash of the process or the machine. Concurrent callers share fsyncs; a batch is one.
/// </para>
/// <para>
/// While the journal holds (or is about to hold) records that are not yet in Redis it is
/// "journaling": every new publish must come here too, behind them, so none overtakes an older one.
/// Only the replayer ends that state, in <see cref="TryFinishAsync"/>, under the write gate and the
/// lock, so no append can slip between "everything is replayed" and "publish directly again".
/// </para>
/// </summary>
internal sealed partial class BackupJournal : IDisposable
{
    /// <summary>The file header: magic, format version, generation (new each time the journal is emptied).</summary>
    public const int HeaderBytes = 16;

    private const uint FormatVersion = 1;

    private readonly object _sync = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SafeFileHandle _file;
    private readonly JournalCheckpoint _checkpoint;
    private readonly JournalFileReader _reader;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private List<PendingAppend> _queue = [];
    private long _generation;
    private long _committedEnd;     // every byte below is a whole, fsync'd record
    private long _reservedEnd;      // committed end plus the appends queued to be written
    private long _replayedOffset;   // every record below is in Redis (and the checkpoint says so)
    private bool _journaling;
    private TaskCompletionSource? _draining;   // set while the replayer replays the last records: new appends wait for it
    private bool _replayHealthy;               // Redis took the last replay batch: appends are paced to the replay
    private DateTimeOffset? _unreachableSince;
    private TaskCompletionSource _changed = NewSignal();
    private Exception? _broken;
    private string? _replayStopped;
    private bool _disposed;

    private BackupJournal(string path, long maxBytes, SafeFileHandle file, JournalCheckpoint checkpoint, TimeProvider time, ILogger logger)
    {
        Path = path;
        MaxBytes = maxBytes;
        _file = file;
        _checkpoint = checkpoint;
        _reader = new JournalFileReader(file);
        _time = time;
        _logger = logger;
    }

    /// <summary>The journal file.</summary>
    public string Path { get; }

    /// <summary>
    /// While replay is going well, new publishes wait when more than this is waiting to be replayed,
    /// and the replayer starts the final drain once the backlog is this small: publishers that journal
    /// faster than Redis takes the replay cannot keep the journal from emptying.
    /// </summary>
    public const long DrainBacklogBytes = 1024 * 1024;

    /// <summary>The size limit of the journal file.</summary>
    public long MaxBytes { get; }

    /// <summary>True while new publishes must be journaled (the journal holds, or is about to hold, unreplayed records).</summary>
    public bool IsJournaling => Volatile.Read(ref _journaling);

    /// <summary>A consistent view of the journal's state, for logs, errors and tests.</summary>
    public BackupJournalState State
    {
        get
        {
            lock (_sync)
            {
                return new BackupJournalState(_journaling, _reservedEnd, _committedEnd - _replayedOffset, _unreachableSince);
            }
        }
    }

    /// <summary>Notes that Redis failed; the first failure of an outage is kept for the "full" error.</summary>
    public void MarkUnreachable(DateTimeOffset since)
    {
        lock (_sync)
        {
            _unreachableSince ??= since;
        }
    }

    /// <summary>Notes that replay has stopped for good (a damaged record), for the "full" error.</summary>
    public void MarkReplayStopped(string reason)
    {
        lock (_sync)
        {
            _replayStopped = reason;
        }
    }

    /// <summary>
    /// Journals <paramref name="messages"/> (ids assigned, delays absolute) and returns once they are
    /// on disk. Returns false without journaling when <paramref name="onlyWhileJournaling"/> is set and
    /// the journal has meanwhile gone back to direct mode, or was draining (the caller then looks again:
    /// direct if the switch happened, the journal if replay failed). Throws
    /// <see cref="BackupJournalFullException"/> when the records do not fit: nothing is journaled.
    /// </summary>
    public async Task<bool> AppendAsync(IReadOnlyList<OutgoingMessage> messages, bool onlyWhileJournaling, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var buffer = new JournalBuffer(64 + (messages.Count * 128) + messages.Sum(m => m.Payload.Length));
        var now = _time.GetUtcNow();
        foreach (var message in messages)
        {
            JournalRecordCodec.Write(buffer, message, now);
        }

        var pending = new PendingAppend(buffer.Written);
        while (true)
        {
            Task? drained = null, paced = null;
            lock (_sync)
            {
                ThrowIfUnusable();
                if (onlyWhileJournaling && !_journaling)
                {
                    return false;
                }

                if (onlyWhileJournaling && _draining is { } draining)
                {
                    drained = draining.Task;
                }
                else if (onlyWhileJournaling && _replayHealthy && _reservedEnd - _replayedOffset > DrainBacklogBytes)
                {
                    paced = _changed.Task;
                }
                else if (_reservedEnd + pending.Bytes.Length > MaxBytes)
                {
                    throw new BackupJournalFullException(Path, _reservedEnd, MaxBytes, pending.Bytes.Length, _unreachableSince, _replayStopped);
                }
                else
                {
                    _reservedEnd += pending.Bytes.Length;
                    _queue.Add(pending);
                    if (!_journaling)
                    {
                        _journaling = true;
                        SignalLocked();
                    }

                    break;
                }
            }

            if (drained is not null)
            {
                // The replayer is putting the last records into Redis and will then switch to direct
                // publishing: wait (at most the time to replay 1 MiB) instead of adding more behind them. Then the
                // caller looks again: direct if the switch happened, the journal if replay failed.
                await drained.WaitAsync(cancellationToken).ConfigureAwait(false);
                return false;
            }

            // Redis is back and much is still to replay: wait for the replay to make room (pacing).
            await paced!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        // From here the append is promised: it is written (or fails as a whole) even if the caller
        // stops waiting, so cancellation is not honoured past this point.
        await _writeGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (!pending.IsDone)
            {
                WriteQueued();
            }
        }
        finally
        {
            _writeGate.Release();
        }

        await pending.Task.ConfigureAwait(false);
        return true;
    }

    /// <summary>Completes when the journal changes (records committed, journaling starts or ends), or after <paramref name="timeout"/>.</summary>
    public async Task WaitForChangeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task changed;
        lock (_sync)
        {
            changed = _changed.Task;
        }

        try
        {
            await changed.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Nothing changed within the timeout: the caller looks again anyway.
        }
    }

    public void Dispose()
    {
        List<PendingAppend> abandoned;
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            abandoned = _queue;
            _queue = [];
            EndDrainLocked();
            SignalLocked();
        }

        foreach (var pending in abandoned)
        {
            pending.Fail(new ObjectDisposedException(nameof(BackupJournal), $"The backup journal {Path} was closed before this publish was written; nothing of it was journaled."));
        }

        // A write in progress holds a reference to the handle (SafeHandle): it finishes before the file closes.
        _file.Dispose();
        _checkpoint.Dispose();
    }

    /// <summary>Opens a journal file for reading and writing, locked against every other process (and every other opener in this one).</summary>
    internal static SafeFileHandle OpenExclusive(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"The backup journal file {path} could not be opened ({e.Message}); is another process using this journal directory? Each process needs its own.", e);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Writes every queued append with one write and one fsync (the caller holds the write gate).</summary>
    private void WriteQueued()
    {
        List<PendingAppend> batch;
        long at;
        lock (_sync)
        {
            batch = _queue;
            _queue = [];
            at = _committedEnd;
            if (_disposed || _broken is not null)
            {
                var reason = _broken ?? new ObjectDisposedException(nameof(BackupJournal), $"The backup journal {Path} is closed; nothing of this publish was journaled.");
                batch.ForEach(p => p.Fail(reason));
                return;
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        long bytes = 0;
        var buffers = new ReadOnlyMemory<byte>[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            buffers[i] = batch[i].Bytes;
            bytes += batch[i].Bytes.Length;
        }

        try
        {
            RandomAccess.Write(_file, buffers, at);
            RandomAccess.FlushToDisk(_file);   // fsync: the callers are answered only after this
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            var error = Undo(at, bytes, e);
            batch.ForEach(p => p.Fail(error));
            return;
        }

        lock (_sync)
        {
            _committedEnd = at + bytes;
            SignalLocked();
        }

        batch.ForEach(p => p.Complete());
    }

    /// <summary>A write or fsync failed: cut the file back to the committed end so no half-written records remain.</summary>
    private IOException Undo(long at, long bytes, Exception cause)
    {
        try
        {
            RandomAccess.SetLength(_file, at);
            RandomAccess.FlushToDisk(_file);
            lock (_sync)
            {
                _reservedEnd -= bytes;
            }

            return new IOException($"Writing to the backup journal {Path} failed ({cause.Message}); nothing of this publish was journaled.", cause);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            var broken = new IOException(
                $"Writing to the backup journal {Path} failed ({cause.Message}) and the file could not be cut back to its last good record ({e.Message}); " +
                "the journal is out of service until the process restarts (records written before are kept).", cause);
            lock (_sync)
            {
                _broken = broken;
            }

            return broken;
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_broken is not null)
        {
            throw new IOException(_broken.Message, _broken);
        }
    }

    /// <summary>
    /// The replayer has caught up with what is on disk: from now on new publishes wait instead of
    /// being journaled, until <see cref="TryFinishAsync"/> switches to direct or <see cref="EndDrain"/> gives up.
    /// </summary>
    public void BeginDrain()
    {
        lock (_sync)
        {
            _draining ??= NewSignal();
        }
    }

    /// <summary>Stops draining (replay failed): waiting publishes go to the journal again.</summary>
    public void EndDrain()
    {
        lock (_sync)
        {
            EndDrainLocked();
        }
    }

    private void EndDrainLocked()
    {
        _draining?.TrySetResult();
        _draining = null;
        if (_replayHealthy)
        {
            _replayHealthy = false;   // paced publishes journal freely again
            SignalLocked();
        }
    }

    private void SignalLocked()
    {
        var previous = _changed;
        _changed = NewSignal();
        previous.TrySetResult();
    }

    /// <summary>One append call's records, waiting to be written.</summary>
    private sealed class PendingAppend(ReadOnlyMemory<byte> bytes) : TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public ReadOnlyMemory<byte> Bytes { get; } = bytes;

        public bool IsDone => Task.IsCompleted;

        public void Complete() => TrySetResult();

        public void Fail(Exception error) => TrySetException(error);
    }
}

/// <summary>The journal at one moment: journaling or not, file size, bytes not yet replayed, since when Redis fails.</summary>
internal readonly record struct BackupJournalState(bool Journaling, long Bytes, long UnreplayedBytes, DateTimeOffset? UnreachableSince);
