using Millrace.Redis.Tests.Support;
using System.Buffers;
using System.Text;

namespace Millrace.Redis.Tests.Protocol;

/// <summary>RespWriter.Write: the exact bytes of a command as a RESP array of bulk strings.</summary>
public sealed class RespWriterUnitTests
{
    [Fact]
    public void Write_GivenCommandWithoutArguments_WritesOneItemArray()
    {
        // Given
        var command = new RedisCommand("PING", []);

        // When
        var wire = Write(command);

        // Then
        ExpectWire("*1\r\n$4\r\nPING\r\n", wire);
    }

    [Fact]
    public void Write_GivenTextArguments_WritesEachAsBulkString()
    {
        // Given
        var command = new RedisCommand("SET", ["key", "value"], keyIndex: 0);

        // When
        var wire = Write(command);

        // Then
        ExpectWire("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n", wire);
    }

    [Theory]
    [InlineData("héllo", "$6\r\nh\u00c3\u00a9llo\r\n")]
    [InlineData("ключ", "$8\r\n\u00d0\u00ba\u00d0\u00bb\u00d1\u008e\u00d1\u0087\r\n")]
    [InlineData("日本", "$6\r\n\u00e6\u0097\u00a5\u00e6\u009c\u00ac\r\n")]
    [InlineData("😀", "$4\r\n\u00f0\u009f\u0098\u0080\r\n")]
    public void Write_GivenNonAsciiText_WritesUtf8BytesWithTheirByteLength(string text, string expectedArgument)
    {
        // Given
        var command = new RedisCommand("GET", [text]);

        // When
        var wire = Write(command);

        // Then: the length is the UTF-8 byte count, not the char count
        ExpectWire("*2\r\n$3\r\nGET\r\n" + expectedArgument, wire);
    }

    [Fact]
    public void Write_GivenTextContainingCrlf_WritesItVerbatimInsideTheBulk()
    {
        // Given
        var command = new RedisCommand("ECHO", ["a\r\nb"]);

        // When
        var wire = Write(command);

        // Then
        ExpectWire("*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", wire);
    }

    [Fact]
    public void Write_GivenByteArrayArgument_WritesTheRawBytes()
    {
        // Given: bytes that are not valid UTF-8 and include CR, LF and NUL
        var payload = new byte[] { 0x00, 0xff, 0x0d, 0x0a, 0xc3, 0x28 };
        var command = new RedisCommand("SET", ["k", payload]);

        // When
        var wire = Write(command);

        // Then
        ExpectWire("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\n\u0000\u00ff\r\n\u00c3(\r\n", wire);
    }

    [Fact]
    public void Write_GivenReadOnlyMemorySlice_WritesOnlyTheSlice()
    {
        // Given
        ReadOnlyMemory<byte> slice = "xxhelloxx"u8.ToArray().AsMemory(2, 5);
        var command = new RedisCommand("ECHO", [RedisArg.FromBytes(slice)]);

        // When
        var wire = Write(command);

        // Then
        ExpectWire("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n", wire);
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(42L, "42")]
    [InlineData(-7L, "-7")]
    [InlineData(long.MaxValue, "9223372036854775807")]
    [InlineData(long.MinValue, "-9223372036854775808")]
    public void Write_GivenInteger_WritesItsDecimalTextAsBulk(long value, string digits)
    {
        // Given
        var command = new RedisCommand("INCRBY", ["k", value]);

        // When
        var wire = Write(command);

        // Then
        ExpectWire($"*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n${digits.Length}\r\n{digits}\r\n", wire);
    }

    [Fact]
    public void Write_GivenInt32_WritesItLikeAnInt64()
    {
        // Given
        var command = new RedisCommand("SELECT", [int.MinValue]);

        // When
        var wire = Write(command);

        // Then
        ExpectWire("*2\r\n$6\r\nSELECT\r\n$11\r\n-2147483648\r\n", wire);
    }

    [Theory]
    [InlineData(double.PositiveInfinity, "+inf")]
    [InlineData(double.NegativeInfinity, "-inf")]
    [InlineData(1.5, "1.5")]
    [InlineData(-0.25, "-0.25")]
    [InlineData(3.0, "3")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e-7, "1E-07")]
    public void Write_GivenDouble_WritesItsRoundTripText(double value, string text)
    {
        // Given
        var command = new RedisCommand("ZADD", ["z", value, "m"]);

        // When
        var wire = Write(command);

        // Then
        ExpectWire($"*4\r\n$4\r\nZADD\r\n$1\r\nz\r\n${text.Length}\r\n{text}\r\n$1\r\nm\r\n", wire);
    }

    [Fact]
    public void Write_GivenDoubleNeedingAllDigits_WritesTextThatParsesBackToTheSameValue()
    {
        // Given
        var value = 0.1 + 0.2;
        var command = new RedisCommand("ZINCRBY", [value]);

        // When
        var wire = Write(command);

        // Then
        ExpectWire("*2\r\n$7\r\nZINCRBY\r\n$19\r\n0.30000000000000004\r\n", wire);
    }

    [Fact]
    public void Write_GivenEmptyText_WritesZeroLengthBulk()
    {
        // Given
        var command = new RedisCommand("SET", ["k", ""]);

        // When
        var wire = Write(command);

        // Then
        ExpectWire("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", wire);
    }

    [Fact]
    public void Write_GivenEmptyBytes_WritesZeroLengthBulk()
    {
        // Given
        var command = new RedisCommand("SET", ["k", Array.Empty<byte>()]);

        // When
        var wire = Write(command);

        // Then
        ExpectWire("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", wire);
    }

    [Fact]
    public void Write_GivenArgumentLargerThanTheWritersBuffer_WritesAllOfIt()
    {
        // Given: 100 000 two-byte UTF-8 characters, far more than one buffer span
        var text = new string('é', 100_000);
        var command = new RedisCommand("SET", ["k", text]);
        var output = new ArrayBufferWriter<byte>(16);

        // When
        RespWriter.Write(output, command);

        // Then
        var expected = RespText.Concat(Bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$200000\r\n"), Encoding.UTF8.GetBytes(text), Bytes("\r\n"));
        Assert.True(output.WrittenSpan.SequenceEqual(expected),
            $"Expected a {expected.Length}-byte command with a 200000-byte bulk but got {output.WrittenCount} bytes starting {RespText.Escape(Encoding.Latin1.GetString(output.WrittenSpan[..Math.Min(40, output.WrittenCount)]))}");
    }

    [Fact]
    public void Write_GivenTwoCommandsToOneWriter_AppendsTheSecondAfterTheFirst()
    {
        // Given
        var output = new ArrayBufferWriter<byte>();

        // When
        RespWriter.Write(output, new RedisCommand("GET", ["a"]));
        RespWriter.Write(output, new RedisCommand("DEL", ["b", 2]));

        // Then
        ExpectWire("*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$3\r\nDEL\r\n$1\r\nb\r\n$1\r\n2\r\n", output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Write_GivenMixedArgumentKinds_WritesEachInOrder()
    {
        // Given
        var command = new RedisCommand("XADD", ["s", "*", "n", 5, "d", 2.5, "b", new byte[] { 0x01 }]);

        // When
        var wire = Write(command);

        // Then
        ExpectWire("*9\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nn\r\n$1\r\n5\r\n$1\r\nd\r\n$3\r\n2.5\r\n$1\r\nb\r\n$1\r\n\u0001\r\n", wire);
    }

    // ----- helpers -----

    private static byte[] Write(RedisCommand command)
    {
        var output = new ArrayBufferWriter<byte>();
        RespWriter.Write(output, command);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Compares with the expected wire text, written as Latin-1 so "\u00ff" is the byte 0xff.</summary>
    private static void ExpectWire(string expectedLatin1, byte[] actual)
    {
        var expected = Bytes(expectedLatin1);
        Assert.True(actual.AsSpan().SequenceEqual(expected),
            $"Expected the bytes {RespText.Escape(expectedLatin1)} but got {RespText.Escape(Encoding.Latin1.GetString(actual))}");
    }

    private static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);


}
