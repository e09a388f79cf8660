namespace Millrace;

internal sealed partial class BackupJournal
{
    /// <summary>
    /// Reads up to <paramref name="maxRecords"/> unreplayed records (and about <paramref name="maxBytes"/>
    /// at most, but always at least one). Only the replayer calls this, one call at a time. A damaged
    /// record among committed ones throws <see cref="BackupJournalCorruptException"/>: replay stops
    /// there, nothing is skipped.
    /// </summary>
    public JournalBatch ReadBatch(int maxRecords, long maxBytes)
    {
        long start, end, generation;
        lock (_sync)
        {
            ThrowIfUnusable();
            (start, end, generation) = (_replayedOffset, _committedEnd, _generation);
        }

        var messages = new List<OutgoingMessage>(Math.Min(maxRecords, 1024));
        var offset = start;
        while (messages.Count < maxRecords && offset - start < maxBytes)
        {
            var status = _reader.Read(offset, end, out var payload, out var next);
            if (status == JournalReadStatus.End)
            {
                break;
            }

            if (status != JournalReadStatus.Record)
            {
                throw new BackupJournalCorruptException(Path, offset, $"a committed record reads as {status} (the file changed under the journal, or the disk returned bad data)");
            }

            try
            {
                messages.Add(JournalRecordCodec.Read(payload.Span, out _));
            }
            catch (FormatException e)
            {
                throw new BackupJournalCorruptException(Path, offset, $"a record cannot be decoded ({e.Message})", e);
            }

            offset = next;
        }

        return new JournalBatch(messages, start, offset, generation);
    }

    /// <summary>
    /// Records that <paramref name="batch"/> is in Redis: the checkpoint is fsync'd before this
    /// returns. A crash before it means the batch is replayed again, and its dedup keys make that add nothing.
    /// Returns the bytes still to replay (including appends being written).
    /// </summary>
    public long RecordReplayed(JournalBatch batch)
    {
        lock (_sync)
        {
            ThrowIfUnusable();
            if (batch.Generation != _generation || batch.Start != _replayedOffset)
            {
                throw new InvalidOperationException($"Replay progress out of order: batch {batch.Start}..{batch.End} of generation {batch.Generation}, journal at {_replayedOffset} of {_generation}.");
            }
        }

        _checkpoint.Write(batch.Generation, batch.End);
        lock (_sync)
        {
            _replayedOffset = batch.End;
            _unreachableSince = null;
            _replayHealthy = true;
            SignalLocked();   // paced publishes look again
            return _reservedEnd - _replayedOffset;
        }
    }

    /// <summary>
    /// If every record is replayed and no append is waiting, empties the journal (new generation,
    /// file cut to its header, fsync'd) and goes back to direct publishing; true when it did. Appends
    /// that arrive meanwhile only queue (this holds the write gate): they are written to the emptied
    /// journal and it stays journaling, so none of them can be overtaken by a direct publish.
    /// </summary>
    public async Task<bool> TryFinishAsync(CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            bool emptyFile;
            lock (_sync)
            {
                ThrowIfUnusable();
                if (_replayedOffset != _committedEnd || _queue.Count > 0)
                {
                    return false;
                }

                emptyFile = _committedEnd == HeaderBytes;
            }

            var generation = _generation;
            if (!emptyFile)
            {
                // Crash safety of these steps: see Load (a checkpoint past the end, or of an older generation).
                generation = NewGeneration();
                WriteHeader(generation);
                RandomAccess.SetLength(_file, HeaderBytes);
                RandomAccess.FlushToDisk(_file);
                _checkpoint.Write(generation, HeaderBytes);
                _reader.Reset();
            }

            lock (_sync)
            {
                _generation = generation;
                _committedEnd = _replayedOffset = HeaderBytes;
                _reservedEnd = HeaderBytes + _queue.Sum(p => (long)p.Bytes.Length);
                if (_queue.Count > 0)
                {
                    return false;
                }

                _journaling = false;
                _unreachableSince = null;
                EndDrainLocked();   // the publishes that waited now go direct, after everything journaled
                SignalLocked();
                return true;
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }
}
