using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Millrace.Redis;

/// <summary>
/// Parses RESP2 and RESP3 replies from a byte sequence. <c>TryRead</c> returns false when the
/// sequence holds only part of a reply (the caller waits for more bytes and tries again) and throws
/// <see cref="RedisProtocolException"/> for bytes that can never become a valid reply.
/// </summary>
internal static class RespParser
{
    /// <summary>Redis's own limit for one bulk string (proto-max-bulk-len default).</summary>
    public const int MaxBulkLength = 512 * 1024 * 1024;

    /// <summary>Longest header or simple line accepted before deciding the peer is not speaking RESP.</summary>
    public const int MaxLineLength = 64 * 1024;

    private const int MaxAggregateLength = 64 * 1024 * 1024;
    private const int MaxDepth = 64;

    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out RedisReply reply)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!TryRead(ref reader, 0, out reply!))
        {
            return false;
        }

        buffer = buffer.Slice(reader.Position);
        return true;
    }

    private static bool TryRead(ref SequenceReader<byte> reader, int depth, out RedisReply? reply)
    {
        reply = null;
        if (depth > MaxDepth)
        {
            throw new RedisProtocolException($"reply nested deeper than {MaxDepth} levels");
        }

        if (!reader.TryRead(out var prefix))
        {
            return false;
        }

        if ("+-:_,#($!=*~>%|"u8.IndexOf(prefix) < 0)
        {
            // Checked before waiting for the line: bytes that can never be a reply fail now, not at a timeout.
            throw new RedisProtocolException($"unexpected byte {Describe(prefix)} where a reply type (+ - : $ * and RESP3's _ , # ( ! = % ~ > |) was expected");
        }

        if (!TryReadLine(ref reader, out var line))
        {
            return false;
        }

        switch (prefix)
        {
            case (byte)'+':
                reply = RedisReply.SimpleString(line.ToArray());
                return true;
            case (byte)'-':
                reply = RedisReply.Error(line.ToArray());
                return true;
            case (byte)':':
                reply = RedisReply.Integer(ParseInteger(line, "integer"));
                return true;
            case (byte)'_':
                reply = RedisReply.Null;
                return true;
            case (byte)',':
                reply = RedisReply.Number(ParseDouble(line));
                return true;
            case (byte)'#':
                reply = line.Length == 1 && line[0] is (byte)'t' or (byte)'f'
                    ? RedisReply.Boolean(line[0] == (byte)'t')
                    : throw new RedisProtocolException($"boolean reply '{Printable(line)}' is neither t nor f");
                return true;
            case (byte)'(':
                reply = RedisReply.BigNumber(line.ToArray());
                return true;
            case (byte)'$':
            case (byte)'!':
            case (byte)'=':
                return TryReadBlob(ref reader, prefix, ParseLength(line, MaxBulkLength, "bulk string"), out reply);
            case (byte)'*':
            case (byte)'~':
            case (byte)'>':
                return TryReadAggregate(ref reader, depth, prefix, ParseLength(line, MaxAggregateLength, "array"), 1, out reply);
            case (byte)'%':
                return TryReadAggregate(ref reader, depth, prefix, ParseLength(line, MaxAggregateLength / 2, "map"), 2, out reply);
            case (byte)'|':
                // Attributes describe the reply that follows; Millrace has no use for them: read and drop.
                if (!TryReadAggregate(ref reader, depth, prefix, ParseLength(line, MaxAggregateLength / 2, "attribute"), 2, out _))
                {
                    return false;
                }

                return TryRead(ref reader, depth, out reply);
            default:
                throw new RedisProtocolException($"unexpected byte {Describe(prefix)} where a reply type (+ - : $ * and RESP3's _ , # ( ! = % ~ > |) was expected");
        }
    }

    private static bool TryReadBlob(ref SequenceReader<byte> reader, byte prefix, long length, out RedisReply? reply)
    {
        reply = null;
        if (length < 0)
        {
            reply = RedisReply.Null;
            return true;
        }

        if (reader.Remaining < length + 2)
        {
            return false;
        }

        var bytes = new byte[length];
        reader.TryCopyTo(bytes);
        reader.Advance(length);
        if (!reader.IsNext("\r\n"u8, advancePast: true))
        {
            throw new RedisProtocolException($"bulk string of {length} bytes is not followed by CRLF");
        }

        reply = prefix switch
        {
            (byte)'!' => RedisReply.Error(bytes),
            // A verbatim string starts with a three-letter format and a colon ("txt:").
            (byte)'=' => RedisReply.Verbatim(bytes.Length >= 4 && bytes[3] == (byte)':' ? bytes[4..] : bytes),
            _ => RedisReply.Bulk(bytes),
        };
        return true;
    }

    private static bool TryReadAggregate(ref SequenceReader<byte> reader, int depth, byte prefix, long count, int width, out RedisReply? reply)
    {
        reply = null;
        if (count < 0)
        {
            reply = RedisReply.Null;
            return true;
        }

        var items = new RedisReply[count * width];
        for (var i = 0; i < items.Length; i++)
        {
            if (!TryRead(ref reader, depth + 1, out var item))
            {
                return false;
            }

            items[i] = item!;
        }

        var kind = prefix switch
        {
            (byte)'~' => RedisReplyKind.Set,
            (byte)'>' => RedisReplyKind.Push,
            (byte)'%' or (byte)'|' => RedisReplyKind.Map,
            _ => RedisReplyKind.Array,
        };
        reply = RedisReply.Aggregate(kind, items);
        return true;
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line)
    {
        if (reader.TryReadTo(out line, "\r\n"u8, advancePastDelimiter: true))
        {
            if (line.Length > MaxLineLength)
            {
                throw new RedisProtocolException($"a reply line of {line.Length} bytes is longer than {MaxLineLength}");
            }

            return true;
        }

        if (reader.Remaining > MaxLineLength)
        {
            throw new RedisProtocolException($"no CRLF within {MaxLineLength} bytes of a reply line");
        }

        return false;
    }

    private static long ParseLength(ReadOnlySpan<byte> line, long max, string what)
    {
        var value = ParseInteger(line, what + " length");
        if (value < -1 || value > max)
        {
            throw new RedisProtocolException($"{what} length {value} is outside -1..{max}");
        }

        return value;
    }

    private static long ParseInteger(ReadOnlySpan<byte> line, string what)
    {
        if (Utf8Parser.TryParse(line, out long value, out var consumed) && consumed == line.Length && line.Length > 0)
        {
            return value;
        }

        throw new RedisProtocolException($"{what} '{Printable(line)}' is not a number");
    }

    private static double ParseDouble(ReadOnlySpan<byte> line)
    {
        if (line.SequenceEqual("inf"u8) || line.SequenceEqual("+inf"u8))
        {
            return double.PositiveInfinity;
        }

        if (line.SequenceEqual("-inf"u8))
        {
            return double.NegativeInfinity;
        }

        if (line.SequenceEqual("nan"u8))
        {
            return double.NaN;
        }

        if (Utf8Parser.TryParse(line, out double value, out var consumed) && consumed == line.Length)
        {
            return value;
        }

        throw new RedisProtocolException($"double '{Printable(line)}' is not a number");
    }

    private static string Describe(byte b) =>
        b is >= 0x20 and < 0x7f ? $"'{(char)b}' (0x{b:x2})" : $"0x{b:x2}";

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 40)]);
        return bytes.Length > 40 ? text + "…" : text;
    }
}
