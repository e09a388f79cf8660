using System.Buffers.Binary;
using System.Text;

namespace Millrace;

/// <summary>A growable byte buffer the journal encodes records into (one per append call, written with one write).</summary>
internal sealed class JournalBuffer(int capacity = 4096)
{
    private byte[] _bytes = new byte[Math.Max(capacity, 64)];

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Written => _bytes.AsMemory(0, Length);

    public Span<byte> Slice(int start, int length) => _bytes.AsSpan(start, length);

    public void Skip(int count)
    {
        Ensure(count);
        _bytes.AsSpan(Length, count).Clear();
        Length += count;
    }

    public void WriteByte(byte value)
    {
        Ensure(1);
        _bytes[Length++] = value;
    }

    public void WriteInt32(int value)
    {
        Ensure(4);
        BinaryPrimitives.WriteInt32LittleEndian(_bytes.AsSpan(Length), value);
        Length += 4;
    }

    public void WriteInt64(long value)
    {
        Ensure(8);
        BinaryPrimitives.WriteInt64LittleEndian(_bytes.AsSpan(Length), value);
        Length += 8;
    }

    public void WriteVarint(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _bytes[Length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _bytes[Length++] = (byte)value;
    }

    public void WriteString(string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        WriteVarint((ulong)count);
        Ensure(count);
        Length += Encoding.UTF8.GetBytes(value, _bytes.AsSpan(Length));
    }

    public void Write(ReadOnlySpan<byte> value)
    {
        Ensure(value.Length);
        value.CopyTo(_bytes.AsSpan(Length));
        Length += value.Length;
    }

    private void Ensure(int more)
    {
        if (Length + more <= _bytes.Length)
        {
            return;
        }

        var size = _bytes.Length;
        while (size < Length + more)
        {
            size = checked(size * 2);
        }

        Array.Resize(ref _bytes, size);
    }
}
