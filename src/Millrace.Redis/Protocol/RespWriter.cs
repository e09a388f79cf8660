using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Millrace.Redis;

/// <summary>Writes commands as RESP arrays of bulk strings, straight into a buffer writer.</summary>
internal static class RespWriter
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    public static void Write(IBufferWriter<byte> output, RedisCommand command)
    {
        WriteHeader(output, (byte)'*', command.Args.Length + 1);
        WriteAscii(output, command.Name);
        foreach (var arg in command.Args)
        {
            switch (arg.Kind)
            {
                case RedisArg.ArgKind.Text:
                    WriteText(output, arg.Text);
                    break;
                case RedisArg.ArgKind.Bytes:
                    WriteBulk(output, arg.Bytes);
                    break;
                case RedisArg.ArgKind.Integer:
                    WriteInteger(output, arg.Integer);
                    break;
                default:
                    WriteAscii(output, RedisArg.FormatDouble(arg.Double));
                    break;
            }
        }
    }

    private static void WriteHeader(IBufferWriter<byte> output, byte prefix, long length)
    {
        var span = output.GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(length, span[1..], out var written);
        span[written + 1] = (byte)'\r';
        span[written + 2] = (byte)'\n';
        output.Advance(written + 3);
    }

    private static void WriteBulk(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        WriteHeader(output, (byte)'$', value.Length);
        output.Write(value);
        output.Write(Crlf);
    }

    private static void WriteText(IBufferWriter<byte> output, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteHeader(output, (byte)'$', length);
        var span = output.GetSpan(length + 2);
        Encoding.UTF8.GetBytes(value, span);
        span[length] = (byte)'\r';
        span[length + 1] = (byte)'\n';
        output.Advance(length + 2);
    }

    private static void WriteAscii(IBufferWriter<byte> output, string value)
    {
        if (!Ascii.IsValid(value))
        {
            WriteText(output, value);
            return;
        }

        WriteHeader(output, (byte)'$', value.Length);
        var span = output.GetSpan(value.Length + 2);
        Ascii.FromUtf16(value, span, out _);
        span[value.Length] = (byte)'\r';
        span[value.Length + 1] = (byte)'\n';
        output.Advance(value.Length + 2);
    }

    private static void WriteInteger(IBufferWriter<byte> output, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out var written);
        WriteBulk(output, digits[..written]);
    }
}
