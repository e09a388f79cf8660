using System.Buffers.Binary;
using System.Text;

namespace Millrace;

/// <summary>
/// The journal's record format. A record is <c>[length u32][crc32 u32][payload]</c> (little-endian);
/// the CRC covers the length bytes and the payload, so a torn or damaged record is recognised. The
/// payload is a compact binary form of an <see cref="OutgoingMessage"/> whose id is assigned and whose
/// delay is already an absolute due time (a message journaled for an hour is not delayed an hour more):
/// <code>
/// version u8 (1) | flags u8 | journaled_at i64 (Unix ms) | priority i32
/// queue str | id str | type str | [tenant str] | [partition_key str] | [dedup_key str]
/// [dedup_ttl i64 ms] | [deliver_at i64 Unix ms] | header_count varint | (name str, value str)*
/// payload_length varint | payload bytes
/// </code>
/// where <c>str</c> is a varint byte count followed by UTF-8, and the bracketed parts are present when
/// their flag bit is set. Unknown versions and flags are refused, never guessed at.
/// </summary>
internal static class JournalRecordCodec
{
    /// <summary>Length and CRC before each payload.</summary>
    public const int RecordHeaderBytes = 8;

    /// <summary>A length field above this is not a record (payloads are capped far lower by MaxPayloadBytes).</summary>
    public const int MaxRecordPayloadBytes = 1024 * 1024 * 1024;

    private const byte Version = 1;
    private const byte HasTenant = 1, HasPartitionKey = 2, HasDedupKey = 4, HasDedupTtl = 8, HasDeliverAt = 16;
    private const byte KnownFlags = HasTenant | HasPartitionKey | HasDedupKey | HasDedupTtl | HasDeliverAt;

    /// <summary>Appends one whole record (header and payload) for <paramref name="message"/> to <paramref name="output"/>.</summary>
    public static void Write(JournalBuffer output, OutgoingMessage message, DateTimeOffset journaledAt)
    {
        var start = output.Length;
        output.Skip(RecordHeaderBytes);
        var flags = (byte)((message.Tenant is null ? 0 : HasTenant)
            | (message.PartitionKey is null ? 0 : HasPartitionKey)
            | (message.DedupKey is null ? 0 : HasDedupKey)
            | (message.DedupTtl is null ? 0 : HasDedupTtl)
            | (message.DeliverAt is null ? 0 : HasDeliverAt));
        output.WriteByte(Version);
        output.WriteByte(flags);
        output.WriteInt64(journaledAt.ToUnixTimeMilliseconds());
        output.WriteInt32(message.Priority);
        output.WriteString(message.Queue);
        output.WriteString(message.Id ?? throw new ArgumentException("A journaled message must have its id assigned."));
        output.WriteString(message.Type);
        if (message.Tenant is { } tenant)
        {
            output.WriteString(tenant);
        }

        if (message.PartitionKey is { } partitionKey)
        {
            output.WriteString(partitionKey);
        }

        if (message.DedupKey is { } dedupKey)
        {
            output.WriteString(dedupKey);
        }

        if (message.DedupTtl is { } ttl)
        {
            output.WriteInt64((long)ttl.TotalMilliseconds);
        }

        if (message.DeliverAt is { } deliverAt)
        {
            output.WriteInt64(deliverAt.ToUnixTimeMilliseconds());
        }

        var headers = message.Headers;
        output.WriteVarint((ulong)(headers?.Count ?? 0));
        if (headers is not null)
        {
            foreach (var (name, value) in headers)
            {
                output.WriteString(name);
                output.WriteString(value);
            }
        }

        output.WriteVarint((ulong)message.Payload.Length);
        output.Write(message.Payload.Span);

        var payloadLength = output.Length - start - RecordHeaderBytes;
        var header = output.Slice(start, RecordHeaderBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payloadLength);
        var crc = Crc32.Append(Crc32.Compute(header[..4]), output.Slice(start + RecordHeaderBytes, payloadLength));
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], crc);
    }

    /// <summary>The CRC a record with this length and payload must carry.</summary>
    public static uint Checksum(uint length, ReadOnlySpan<byte> payload)
    {
        Span<byte> lengthBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(lengthBytes, length);
        return Crc32.Append(Crc32.Compute(lengthBytes), payload);
    }

    /// <summary>Decodes a payload whose CRC has been checked; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static OutgoingMessage Read(ReadOnlySpan<byte> payload, out DateTimeOffset journaledAt)
    {
        var reader = new Reader(payload);
        var version = reader.Byte();
        if (version != Version)
        {
            throw new FormatException($"record version {version} is not known to this version of Millrace (expected {Version})");
        }

        var flags = reader.Byte();
        if ((flags & ~KnownFlags) != 0)
        {
            throw new FormatException($"record flags 0x{flags:x2} include unknown bits");
        }

        journaledAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.Int64());
        var priority = reader.Int32();
        var queue = reader.String();
        var id = reader.String();
        var type = reader.String();
        var tenant = (flags & HasTenant) != 0 ? reader.String() : null;
        var partitionKey = (flags & HasPartitionKey) != 0 ? reader.String() : null;
        var dedupKey = (flags & HasDedupKey) != 0 ? reader.String() : null;
        TimeSpan? dedupTtl = (flags & HasDedupTtl) != 0 ? TimeSpan.FromMilliseconds(reader.Int64()) : null;
        DateTimeOffset? deliverAt = (flags & HasDeliverAt) != 0 ? DateTimeOffset.FromUnixTimeMilliseconds(reader.Int64()) : null;
        var headerCount = reader.Count();
        Dictionary<string, string>? headers = null;
        if (headerCount > 0)
        {
            headers = new Dictionary<string, string>(headerCount, StringComparer.Ordinal);
            for (var i = 0; i < headerCount; i++)
            {
                var name = reader.String();
                headers[name] = reader.String();
            }
        }

        var body = reader.Bytes(reader.Count()).ToArray();
        if (!reader.AtEnd)
        {
            throw new FormatException($"{reader.Remaining} bytes follow the message payload");
        }

        return new OutgoingMessage
        {
            Queue = queue,
            Id = id,
            Type = type,
            Payload = body,
            Headers = headers,
            Priority = priority,
            Tenant = tenant,
            PartitionKey = partitionKey,
            DedupKey = dedupKey,
            DedupTtl = dedupTtl,
            DeliverAt = deliverAt,
        };
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly bool AtEnd => _rest.IsEmpty;

        public readonly int Remaining => _rest.Length;

        public byte Byte() => Bytes(1)[0];

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8));

        public string String() => Encoding.UTF8.GetString(Bytes(Count()));

        public int Count()
        {
            ulong value = 0;
            for (var shift = 0; shift < 35; shift += 7)
            {
                var b = Byte();
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return value <= int.MaxValue ? (int)value : throw new FormatException($"a length of {value} is out of range");
                }
            }

            throw new FormatException("a length runs over five bytes");
        }

        public ReadOnlySpan<byte> Bytes(int count)
        {
            if (count > _rest.Length)
            {
                throw new FormatException($"the record ends early (needed {count} more bytes, {_rest.Length} left)");
            }

            var taken = _rest[..count];
            _rest = _rest[count..];
            return taken;
        }
    }
}
