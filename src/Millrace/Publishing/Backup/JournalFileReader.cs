using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Millrace;

/// <summary>What reading the record at an offset found.</summary>
internal enum JournalReadStatus
{
    /// <summary>A whole record with a matching checksum.</summary>
    Record,

    /// <summary>No more bytes: the offset is the end.</summary>
    End,

    /// <summary>The record's header or payload runs past the end (a write cut short).</summary>
    Truncated,

    /// <summary>The length field is zero or impossibly large.</summary>
    BadLength,

    /// <summary>The record is whole but its checksum does not match.</summary>
    BadChecksum,
}

/// <summary>
/// Reads journal records by offset through a 1 MiB window (positional reads: safe alongside the
/// appender, which only writes beyond the committed end).
/// </summary>
internal sealed class JournalFileReader(SafeFileHandle file)
{
    private byte[] _window = new byte[1024 * 1024];
    private long _windowStart;
    private int _windowLength;

    /// <summary>Reads the record at <paramref name="offset"/>, looking no further than <paramref name="end"/>.</summary>
    public JournalReadStatus Read(long offset, long end, out ReadOnlyMemory<byte> payload, out long next)
    {
        payload = default;
        next = offset;
        if (offset >= end)
        {
            return JournalReadStatus.End;
        }

        if (end - offset < JournalRecordCodec.RecordHeaderBytes)
        {
            return JournalReadStatus.Truncated;
        }

        var header = Load(offset, JournalRecordCodec.RecordHeaderBytes, end).Span;
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (length == 0 || length > JournalRecordCodec.MaxRecordPayloadBytes)
        {
            return JournalReadStatus.BadLength;
        }

        if (end - offset - JournalRecordCodec.RecordHeaderBytes < length)
        {
            return JournalReadStatus.Truncated;
        }

        var data = Load(offset + JournalRecordCodec.RecordHeaderBytes, (int)length, end);
        next = offset + JournalRecordCodec.RecordHeaderBytes + length;
        if (JournalRecordCodec.Checksum(length, data.Span) != crc)
        {
            return JournalReadStatus.BadChecksum;
        }

        payload = data;
        return JournalReadStatus.Record;
    }

    /// <summary>True when every byte from <paramref name="offset"/> to <paramref name="end"/> is zero (space a crash left unwritten).</summary>
    public bool AllZero(long offset, long end)
    {
        for (var at = offset; at < end;)
        {
            var count = (int)Math.Min(_window.Length, end - at);
            if (Load(at, count, end).Span.ContainsAnyExcept((byte)0))
            {
                return false;
            }

            at += count;
        }

        return true;
    }

    /// <summary>Forgets the window (the file was truncated and is rewritten from the start).</summary>
    public void Reset() => _windowLength = 0;

    private ReadOnlyMemory<byte> Load(long at, int count, long end)
    {
        if (at >= _windowStart && at + count <= _windowStart + _windowLength)
        {
            return _window.AsMemory((int)(at - _windowStart), count);
        }

        if (count > _window.Length)
        {
            _window = new byte[count];
        }

        _windowLength = 0;
        var size = (int)Math.Min(_window.Length, end - at);
        var filled = 0;
        while (filled < size)
        {
            var n = RandomAccess.Read(file, _window.AsSpan(filled, size - filled), at + filled);
            if (n == 0)
            {
                throw new IOException($"the journal file ended at byte {at + filled}, before byte {at + size} that it was expected to hold");
            }

            filled += n;
        }

        _windowStart = at;
        _windowLength = size;
        return _window.AsMemory(0, count);
    }
}
