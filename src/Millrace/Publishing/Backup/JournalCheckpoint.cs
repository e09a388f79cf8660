using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Millrace;

/// <summary>
/// The replay progress of a journal: "every record below this offset of journal generation G is in
/// Redis". Two 32-byte slots written alternately, each <c>"MRC1" | seq u64 | generation u64 |
/// offset u64 | crc32</c>, fsync'd after each write: a torn write can only damage the slot being
/// written, and the other one still holds the previous progress. The newest valid slot wins.
/// </summary>
internal sealed class JournalCheckpoint : IDisposable
{
    private const int SlotBytes = 32;

    private readonly SafeFileHandle _file;
    private readonly byte[] _slot = new byte[SlotBytes];
    private ulong _sequence;

    private JournalCheckpoint(SafeFileHandle file, string path)
    {
        _file = file;
        Path = path;
    }

    public string Path { get; }

    /// <summary>The progress last recorded, or null when there is none (a new or unreadable checkpoint file).</summary>
    public (long Generation, long Offset)? Recorded { get; private set; }

    /// <summary>True when the file had content but neither slot was valid.</summary>
    public bool WasUnreadable { get; private set; }

    public static JournalCheckpoint Open(string path)
    {
        var file = BackupJournal.OpenExclusive(path);
        var checkpoint = new JournalCheckpoint(file, path);
        checkpoint.Load();
        return checkpoint;
    }

    /// <summary>Records the progress durably (fsync) before returning.</summary>
    public void Write(long generation, long offset)
    {
        var sequence = _sequence + 1;
        var slot = _slot.AsSpan();
        "MRC1"u8.CopyTo(slot);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[4..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(slot[12..], generation);
        BinaryPrimitives.WriteInt64LittleEndian(slot[20..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[28..], Crc32.Compute(slot[..28]));
        RandomAccess.Write(_file, slot, (long)(sequence % 2) * SlotBytes);
        RandomAccess.FlushToDisk(_file);
        _sequence = sequence;
        Recorded = (generation, offset);
    }

    public void Dispose() => _file.Dispose();

    private void Load()
    {
        var length = RandomAccess.GetLength(_file);
        var bytes = new byte[2 * SlotBytes];
        var read = 0;
        while (read < bytes.Length && read < length)
        {
            var n = RandomAccess.Read(_file, bytes.AsSpan(read), read);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        ulong best = 0;
        for (var i = 0; i < 2; i++)
        {
            var slot = bytes.AsSpan(i * SlotBytes, SlotBytes);
            if ((i + 1) * SlotBytes > read || !slot[..4].SequenceEqual("MRC1"u8)
                || BinaryPrimitives.ReadUInt32LittleEndian(slot[28..]) != Crc32.Compute(slot[..28]))
            {
                continue;
            }

            var sequence = BinaryPrimitives.ReadUInt64LittleEndian(slot[4..]);
            if (sequence > best)
            {
                best = sequence;
                Recorded = (BinaryPrimitives.ReadInt64LittleEndian(slot[12..]), BinaryPrimitives.ReadInt64LittleEndian(slot[20..]));
            }
        }

        _sequence = best;
        WasUnreadable = best == 0 && length > 0;
    }
}
