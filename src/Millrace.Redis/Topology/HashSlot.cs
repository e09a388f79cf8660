namespace Millrace.Redis;

/// <summary>Redis Cluster's key-to-slot function: CRC16 (XMODEM) of the key, or of its <c>{hash tag}</c>, mod 16384.</summary>
public static class HashSlot
{
    /// <summary>The number of slots in a Redis Cluster.</summary>
    public const int Count = 16384;

    private static readonly ushort[] Table = BuildTable();

    /// <summary>The slot of a key given as text.</summary>
    public static int Of(string key) => Of(System.Text.Encoding.UTF8.GetBytes(key));

    /// <summary>The slot of a key given as bytes. Only the part inside the first non-empty <c>{...}</c> counts, when there is one.</summary>
    public static int Of(ReadOnlySpan<byte> key)
    {
        var open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            var close = key[(open + 1)..].IndexOf((byte)'}');
            if (close > 0)
            {
                key = key.Slice(open + 1, close);
            }
        }

        return Crc16(key) & (Count - 1);
    }

    internal static ushort Crc16(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        foreach (var b in data)
        {
            crc = (ushort)((crc << 8) ^ Table[((crc >> 8) ^ b) & 0xff]);
        }

        return crc;
    }

    private static ushort[] BuildTable()
    {
        // CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as the Cluster specification defines.
        var table = new ushort[256];
        for (var i = 0; i < 256; i++)
        {
            var crc = (ushort)(i << 8);
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            }

            table[i] = crc;
        }

        return table;
    }
}
