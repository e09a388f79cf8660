using System.Globalization;
using System.Text;

namespace Millrace.Redis;

/// <summary>
/// One argument of a command: text, bytes, an integer or a double, encoded straight into the
/// connection's buffer when the command is written.
/// </summary>
public readonly struct RedisArg
{
    private readonly string? _text;
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly long _number;   // an integer, or a double's bits
    private readonly ArgKind _kind;

    private RedisArg(ArgKind kind, string? text = null, ReadOnlyMemory<byte> bytes = default, long number = 0)
    {
        _kind = kind;
        _text = text;
        _bytes = bytes;
        _number = number;
    }

    internal enum ArgKind : byte
    {
        Text,
        Bytes,
        Integer,
        Double,
    }

    /// <summary>Text, sent as UTF-8.</summary>
    public static implicit operator RedisArg(string value) => new(ArgKind.Text, text: value ?? throw new ArgumentNullException(nameof(value)));

    /// <summary>Raw bytes.</summary>
    public static implicit operator RedisArg(byte[] value) => new(ArgKind.Bytes, bytes: value ?? throw new ArgumentNullException(nameof(value)));

    /// <summary>Raw bytes.</summary>
    public static implicit operator RedisArg(ReadOnlyMemory<byte> value) => new(ArgKind.Bytes, bytes: value);

    /// <summary>An integer, sent as its decimal text.</summary>
    public static implicit operator RedisArg(long value) => new(ArgKind.Integer, number: value);

    /// <summary>An integer, sent as its decimal text.</summary>
    public static implicit operator RedisArg(int value) => new(ArgKind.Integer, number: value);

    /// <summary>A double, sent in round-trip form (<c>+inf</c>/<c>-inf</c> for infinities).</summary>
    public static implicit operator RedisArg(double value) => new(ArgKind.Double, number: BitConverter.DoubleToInt64Bits(value));

    /// <summary>Makes an argument from text.</summary>
    public static RedisArg FromString(string value) => value;

    /// <summary>Makes an argument from bytes.</summary>
    public static RedisArg FromBytes(ReadOnlyMemory<byte> value) => value;

    /// <summary>Makes an argument from an integer.</summary>
    public static RedisArg FromInt64(long value) => value;

    /// <summary>Makes an argument from a double.</summary>
    public static RedisArg FromDouble(double value) => value;

    internal ArgKind Kind => _kind;
    internal string Text => _text!;
    internal ReadOnlySpan<byte> Bytes => _bytes.Span;
    internal long Integer => _number;
    internal double Double => BitConverter.Int64BitsToDouble(_number);

    /// <summary>The argument's bytes as sent on the wire (used for Cluster hash slots).</summary>
    internal byte[] ToWireBytes() => _kind switch
    {
        ArgKind.Text => Encoding.UTF8.GetBytes(_text!),
        ArgKind.Bytes => _bytes.ToArray(),
        _ => Encoding.ASCII.GetBytes(ToString()),
    };

    /// <inheritdoc />
    public override string ToString() => _kind switch
    {
        ArgKind.Text => _text!,
        ArgKind.Bytes => $"<{_bytes.Length} bytes>",
        ArgKind.Integer => _number.ToString(CultureInfo.InvariantCulture),
        _ => FormatDouble(Double),
    };

    internal static string FormatDouble(double value) => value switch
    {
        double.PositiveInfinity => "+inf",
        double.NegativeInfinity => "-inf",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
