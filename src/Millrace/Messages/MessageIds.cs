using System.Buffers.Binary;

namespace Millrace;

/// <summary>
/// Message ids: UUIDv7 (48-bit Unix ms, then random bits), as 32 lowercase hex digits. Time-ordered
/// and unique across processes. The random bits come from the process's seeded PRNG rather than
/// the OS per id (<c>Guid.CreateVersion7</c> reads /dev/urandom each time: a fifth of a producer's CPU
/// in the e2e benchmark); ids identify messages, they are not secrets.
/// </summary>
internal static class MessageIds
{
    public static string New(DateTimeOffset now)
    {
        Span<byte> bytes = stackalloc byte[16];
        Random.Shared.NextBytes(bytes[6..]);
        var ms = (ulong)now.ToUnixTimeMilliseconds();
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)(ms >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(bytes[2..], (uint)ms);
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));   // version 7
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));   // RFC 9562 variant
        return Convert.ToHexStringLower(bytes);
    }
}
