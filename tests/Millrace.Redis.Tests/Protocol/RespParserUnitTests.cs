using Millrace.Redis.Tests.Support;
using System.Buffers;
using System.Globalization;
using System.Text;

namespace Millrace.Redis.Tests.Protocol;

/// <summary>
/// RespParser.TryRead: every RESP2/RESP3 type, partial input (every split point, one and several
/// segments), several replies in one buffer, and malformed input. Wire text is written as Latin-1 so
/// that "\u00ff" in a test string is the byte 0xff.
/// </summary>
public sealed class RespParserUnitTests
{
    // ----- RESP2 types -----

    [Fact]
    public void TryRead_GivenSimpleString_ReturnsItsText()
    {
        // Given / When
        var reply = ParseWhole("+OK\r\n");

        // Then
        ExpectKind(RedisReplyKind.SimpleString, reply);
        ExpectText("OK", reply);
    }

    [Fact]
    public void TryRead_GivenErrorLine_ReturnsErrorReplyWithTheWholeText()
    {
        // Given / When
        var reply = ParseWhole("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");

        // Then
        ExpectKind(RedisReplyKind.Error, reply);
        Assert.True(reply.IsError, "Expected IsError to be true for a '-' reply");
        ExpectText("WRONGTYPE Operation against a key holding the wrong kind of value", reply);
    }

    [Theory]
    [InlineData(":0\r\n", 0L)]
    [InlineData(":1000\r\n", 1000L)]
    [InlineData(":-42\r\n", -42L)]
    [InlineData(":9223372036854775807\r\n", long.MaxValue)]
    [InlineData(":-9223372036854775808\r\n", long.MinValue)]
    public void TryRead_GivenIntegerLine_ReturnsTheInteger(string wire, long expected)
    {
        // Given / When
        var reply = ParseWhole(wire);

        // Then
        ExpectKind(RedisReplyKind.Integer, reply);
        Assert.True(reply.AsInt64() == expected, $"Expected integer {expected} from {RespText.Escape(wire)} but got {reply.AsInt64()}");
    }

    [Fact]
    public void TryRead_GivenBulkString_ReturnsItsBytes()
    {
        // Given / When
        var reply = ParseWhole("$5\r\nhello\r\n");

        // Then
        ExpectKind(RedisReplyKind.BulkString, reply);
        ExpectBytes("hello", reply);
    }

    [Fact]
    public void TryRead_GivenEmptyBulkString_ReturnsEmptyBytesNotNull()
    {
        // Given / When
        var reply = ParseWhole("$0\r\n\r\n");

        // Then
        ExpectKind(RedisReplyKind.BulkString, reply);
        Assert.False(reply.IsNull, "Expected an empty bulk string ($0) to be an empty string, not null");
        ExpectBytes("", reply);
    }

    [Fact]
    public void TryRead_GivenBulkStringContainingCrlf_ReturnsAllBytesByLength()
    {
        // Given: eight payload bytes, two of them CRLF pairs, then the terminating CRLF
        var wire = "$8\r\nab\r\ncd\r\n\r\n";

        // When
        var reply = ParseWhole(wire);

        // Then
        ExpectKind(RedisReplyKind.BulkString, reply);
        ExpectBytes("ab\r\ncd\r\n", reply);
    }

    [Fact]
    public void TryRead_GivenBulkStringWithBinaryBytes_ReturnsThemUnchanged()
    {
        // Given: NUL, 0xff, a lone CR and a lone LF inside the payload
        var payload = new byte[] { 0x00, 0xff, 0x0d, 0x41, 0x0a, 0x80, 0x00 };
        var wire = RespText.Concat(Bytes($"${payload.Length}\r\n"), payload, Bytes("\r\n"));

        // When
        var reply = ParseWhole(wire);

        // Then
        ExpectKind(RedisReplyKind.BulkString, reply);
        Assert.True(reply.AsBytes()!.AsSpan().SequenceEqual(payload),
            $"Expected the binary payload {Convert.ToHexString(payload)} unchanged but got {Convert.ToHexString(reply.AsBytes()!)}");
    }

    [Fact]
    public void TryRead_GivenNullBulkString_ReturnsNull()
    {
        // Given / When
        var reply = ParseWhole("$-1\r\n");

        // Then
        Assert.True(reply.IsNull, $"Expected $-1 to be the null reply but got {reply.Kind}");
    }

    [Fact]
    public void TryRead_GivenNullArray_ReturnsNull()
    {
        // Given / When
        var reply = ParseWhole("*-1\r\n");

        // Then
        Assert.True(reply.IsNull, $"Expected *-1 to be the null reply but got {reply.Kind}");
    }

    [Fact]
    public void TryRead_GivenEmptyArray_ReturnsArrayWithNoItems()
    {
        // Given / When
        var reply = ParseWhole("*0\r\n");

        // Then
        ExpectKind(RedisReplyKind.Array, reply);
        Assert.True(reply.Count == 0, $"Expected an empty array but it has {reply.Count} items");
    }

    [Fact]
    public void TryRead_GivenArrayOfMixedItems_ReturnsEachItemInOrder()
    {
        // Given / When
        var reply = ParseWhole("*4\r\n$3\r\nfoo\r\n:7\r\n$-1\r\n+bar\r\n");

        // Then
        ExpectRendered("Array[Bulk(foo), Integer(7), Null, Simple(bar)]", reply);
    }

    [Fact]
    public void TryRead_GivenNestedArrays_ReturnsTheTree()
    {
        // Given / When
        var reply = ParseWhole("*3\r\n*2\r\n:1\r\n:2\r\n*0\r\n*1\r\n*1\r\n-ERR deep\r\n");

        // Then
        ExpectRendered("Array[Array[Integer(1), Integer(2)], Array[], Array[Array[Error(ERR deep)]]]", reply);
    }

    [Fact]
    public void TryRead_GivenArrayContainingNullArray_KeepsTheNullItem()
    {
        // Given / When
        var reply = ParseWhole("*2\r\n*-1\r\n:5\r\n");

        // Then
        ExpectRendered("Array[Null, Integer(5)]", reply);
    }

    // ----- RESP3 types -----

    [Fact]
    public void TryRead_GivenResp3Null_ReturnsNull()
    {
        // Given / When
        var reply = ParseWhole("_\r\n");

        // Then
        Assert.True(reply.IsNull, $"Expected _ to be the null reply but got {reply.Kind}");
    }

    [Theory]
    [InlineData(",1.5\r\n", 1.5)]
    [InlineData(",-2.25\r\n", -2.25)]
    [InlineData(",10\r\n", 10.0)]
    [InlineData(",0\r\n", 0.0)]
    [InlineData(",1.23e+10\r\n", 1.23e10)]
    [InlineData(",inf\r\n", double.PositiveInfinity)]
    [InlineData(",-inf\r\n", double.NegativeInfinity)]
    public void TryRead_GivenDouble_ReturnsTheNumber(string wire, double expected)
    {
        // Given / When
        var reply = ParseWhole(wire);

        // Then
        ExpectKind(RedisReplyKind.Double, reply);
        Assert.True(reply.AsDouble().Equals(expected), $"Expected double {expected.ToString("R", CultureInfo.InvariantCulture)} from {RespText.Escape(wire)} but got {reply.AsDouble().ToString("R", CultureInfo.InvariantCulture)}");
    }

    [Fact]
    public void TryRead_GivenDoubleNan_ReturnsNaN()
    {
        // Given / When
        var reply = ParseWhole(",nan\r\n");

        // Then
        ExpectKind(RedisReplyKind.Double, reply);
        Assert.True(double.IsNaN(reply.AsDouble()), $"Expected NaN from ,nan but got {reply.AsDouble()}");
    }

    [Theory]
    [InlineData("#t\r\n", true)]
    [InlineData("#f\r\n", false)]
    public void TryRead_GivenBoolean_ReturnsIt(string wire, bool expected)
    {
        // Given / When
        var reply = ParseWhole(wire);

        // Then
        ExpectKind(RedisReplyKind.Boolean, reply);
        Assert.True(reply.AsBoolean() == expected, $"Expected boolean {expected} from {RespText.Escape(wire)} but got {reply.AsBoolean()}");
    }

    [Fact]
    public void TryRead_GivenBigNumber_KeepsItsDecimalText()
    {
        // Given / When
        var reply = ParseWhole("(3492890328409238509324850943850943825024385\r\n");

        // Then
        ExpectKind(RedisReplyKind.BigNumber, reply);
        ExpectText("3492890328409238509324850943850943825024385", reply);
    }

    [Fact]
    public void TryRead_GivenBlobError_ReturnsErrorReply()
    {
        // Given / When
        var reply = ParseWhole("!21\r\nSYNTAX invalid syntax\r\n");

        // Then
        ExpectKind(RedisReplyKind.Error, reply);
        ExpectText("SYNTAX invalid syntax", reply);
    }

    [Fact]
    public void TryRead_GivenVerbatimString_DropsTheFormatPrefix()
    {
        // Given / When
        var reply = ParseWhole("=15\r\ntxt:Some string\r\n");

        // Then
        ExpectKind(RedisReplyKind.VerbatimString, reply);
        ExpectText("Some string", reply);
    }

    [Fact]
    public void TryRead_GivenMap_ReturnsItFlatAsKeyValueKeyValue()
    {
        // Given / When
        var reply = ParseWhole("%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n#t\r\n");

        // Then
        ExpectRendered("Map[Simple(first), Integer(1), Bulk(second), Boolean(True)]", reply);
        var pairs = reply.AsDictionary();
        Assert.True(pairs.Count == 2 && pairs["first"].AsInt64() == 1 && pairs["second"].AsBoolean(),
            $"Expected the flat map to read back as {{first: 1, second: true}} but got {reply}");
    }

    [Fact]
    public void TryRead_GivenEmptyMap_ReturnsMapWithNoItems()
    {
        // Given / When
        var reply = ParseWhole("%0\r\n");

        // Then
        ExpectRendered("Map[]", reply);
    }

    [Fact]
    public void TryRead_GivenSet_ReturnsSetKind()
    {
        // Given / When
        var reply = ParseWhole("~3\r\n+a\r\n:2\r\n$1\r\nc\r\n");

        // Then
        ExpectRendered("Set[Simple(a), Integer(2), Bulk(c)]", reply);
    }

    [Fact]
    public void TryRead_GivenPush_ReturnsPushKind()
    {
        // Given / When
        var reply = ParseWhole(">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");

        // Then
        ExpectRendered("Push[Bulk(message), Bulk(news), Bulk(hello)]", reply);
    }

    [Fact]
    public void TryRead_GivenAttributeBeforeReply_SkipsTheAttribute()
    {
        // Given: the RESP3 specification's own attribute example
        var wire = "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n";

        // When
        var reply = ParseWhole(wire);

        // Then
        ExpectRendered("Array[Integer(2039123), Integer(9543892)]", reply);
    }

    [Fact]
    public void TryRead_GivenAttributeBeforeAnArrayItem_SkipsItAndKeepsTheItemCount()
    {
        // Given: an attribute in front of the first item of an array
        var wire = "*2\r\n|1\r\n+ttl\r\n:3600\r\n+a\r\n+b\r\n";

        // When
        var reply = ParseWhole(wire);

        // Then
        ExpectRendered("Array[Simple(a), Simple(b)]", reply);
    }

    // ----- partial input -----

    public static TheoryData<string, string> Representative => new()
    {
        { "+OK\r\n", "Simple(OK)" },
        { ":-12345\r\n", "Integer(-12345)" },
        { "$8\r\nab\r\ncd\r\n\r\n", "Bulk(ab\\r\\ncd\\r\\n)" },
        { "$-1\r\n", "Null" },
        { "*3\r\n:1\r\n$-1\r\n*2\r\n+a\r\n-ERR x\r\n", "Array[Integer(1), Null, Array[Simple(a), Error(ERR x)]]" },
        { "%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n,2.5\r\n", "Map[Simple(first), Integer(1), Bulk(second), Double(2.5)]" },
        { "|1\r\n+ttl\r\n:3600\r\n$5\r\nhel\r\n\r\n", "Bulk(hel\\r\\n)" },
        { "=15\r\ntxt:Some string\r\n", "Verbatim(Some string)" },
        { ">2\r\n~1\r\n#t\r\n(12345678901234567890\r\n", "Push[Set[Boolean(True)], BigNumber(12345678901234567890)]" },
    };

    [Theory]
    [MemberData(nameof(Representative))]
    public void TryRead_GivenEveryProperPrefix_ReturnsFalseAndConsumesNothing(string wire, string expected)
    {
        // Given
        var bytes = Bytes(wire);
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, cut);
            var before = buffer;

            // When
            var done = RespParser.TryRead(ref buffer, out _);

            // Then
            Assert.False(done, $"Expected TryRead to wait for more bytes with only the first {cut} of {bytes.Length} bytes of {RespText.Escape(wire)} (which is {expected}), but it returned a reply");
            ExpectUnconsumed(before, buffer, $"the first {cut} bytes of {RespText.Escape(wire)}");
        }
    }

    [Theory]
    [MemberData(nameof(Representative))]
    public void TryRead_GivenTheWholeReply_ReturnsItAndConsumesAllOfIt(string wire, string expected)
    {
        // Given
        var buffer = new ReadOnlySequence<byte>(Bytes(wire));

        // When
        var done = RespParser.TryRead(ref buffer, out var reply);

        // Then
        Assert.True(done, $"Expected TryRead to return the whole reply {RespText.Escape(wire)}");
        ExpectRendered(expected, reply);
        Assert.True(buffer.IsEmpty, $"Expected the whole reply to be consumed but {buffer.Length} bytes were left");
    }

    [Theory]
    [MemberData(nameof(Representative))]
    public void TryRead_GivenTwoSegmentsSplitAtEveryPoint_ReturnsTheSameReply(string wire, string expected)
    {
        var bytes = Bytes(wire);
        for (var split = 1; split < bytes.Length; split++)
        {
            // Given
            var buffer = Segments(bytes, split);

            // When
            var done = RespParser.TryRead(ref buffer, out var reply);

            // Then
            Assert.True(done, $"Expected a reply from {RespText.Escape(wire)} split into two segments at byte {split}");
            ExpectRendered(expected, reply, $"split at byte {split}");
            Assert.True(buffer.IsEmpty, $"Expected the whole reply to be consumed when split at byte {split} but {buffer.Length} bytes were left");
        }
    }

    [Theory]
    [MemberData(nameof(Representative))]
    public void TryRead_GivenThreeSegmentsSplitAtEveryPairOfPoints_ReturnsTheSameReply(string wire, string expected)
    {
        var bytes = Bytes(wire);
        for (var first = 1; first < bytes.Length; first++)
        {
            for (var second = first + 1; second < bytes.Length; second++)
            {
                // Given
                var buffer = Segments(bytes, first, second);

                // When
                var done = RespParser.TryRead(ref buffer, out var reply);

                // Then
                Assert.True(done, $"Expected a reply from {RespText.Escape(wire)} split at bytes {first} and {second}");
                ExpectRendered(expected, reply, $"split at bytes {first} and {second}");
                Assert.True(buffer.IsEmpty, $"Expected the whole reply to be consumed when split at {first} and {second} but {buffer.Length} bytes were left");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Representative))]
    public void TryRead_GivenOneByteSegments_ReturnsTheSameReply(string wire, string expected)
    {
        // Given
        var bytes = Bytes(wire);
        var buffer = Segments(bytes, Enumerable.Range(1, bytes.Length - 1).ToArray());

        // When
        var done = RespParser.TryRead(ref buffer, out var reply);

        // Then
        Assert.True(done, $"Expected a reply from {RespText.Escape(wire)} delivered as one-byte segments");
        ExpectRendered(expected, reply, "one-byte segments");
        Assert.True(buffer.IsEmpty, $"Expected the whole reply to be consumed from one-byte segments but {buffer.Length} bytes were left");
    }

    [Theory]
    [MemberData(nameof(Representative))]
    public void TryRead_GivenEveryProperPrefixInTwoSegments_ReturnsFalseAndConsumesNothing(string wire, string expected)
    {
        var bytes = Bytes(wire);
        for (var cut = 2; cut < bytes.Length; cut++)
        {
            for (var split = 1; split < cut; split++)
            {
                // Given
                var buffer = Segments(bytes[..cut], split);
                var before = buffer;

                // When
                var done = RespParser.TryRead(ref buffer, out _);

                // Then
                Assert.False(done, $"Expected TryRead to wait with only {cut} of {bytes.Length} bytes of {RespText.Escape(wire)} ({expected}) split at {split}, but it returned a reply");
                ExpectUnconsumed(before, buffer, $"the first {cut} bytes split at {split}");
            }
        }
    }

    [Fact]
    public void TryRead_GivenLongLineWithoutCrlfBelowTheLimit_WaitsForMore()
    {
        // Given: a simple string still arriving, well under the line limit
        var buffer = new ReadOnlySequence<byte>(Bytes("+" + new string('a', 1000)));
        var before = buffer;

        // When
        var done = RespParser.TryRead(ref buffer, out _);

        // Then
        Assert.False(done, "Expected a 1000-byte line without CRLF to be treated as incomplete, not as a reply");
        ExpectUnconsumed(before, buffer, "a 1000-byte line without CRLF");
    }

    // ----- several replies in one buffer -----

    [Fact]
    public void TryRead_GivenSeveralRepliesInOneBuffer_ReturnsThemOneAfterAnother()
    {
        // Given
        var buffer = new ReadOnlySequence<byte>(Bytes("+OK\r\n:5\r\n$3\r\nfoo\r\n*2\r\n_\r\n#f\r\n-ERR no\r\n"));
        var expected = new[] { "Simple(OK)", "Integer(5)", "Bulk(foo)", "Array[Null, Boolean(False)]", "Error(ERR no)" };

        // When
        var replies = new List<string>();
        while (RespParser.TryRead(ref buffer, out var reply))
        {
            replies.Add(Render(reply));
        }

        // Then
        Assert.True(replies.SequenceEqual(expected), $"Expected replies [{string.Join("; ", expected)}] in order but got [{string.Join("; ", replies)}]");
        Assert.True(buffer.IsEmpty, $"Expected nothing left after the last reply but {buffer.Length} bytes were left");
    }

    [Fact]
    public void TryRead_GivenCompleteReplyFollowedByPartialOne_ReturnsTheFirstAndLeavesTheRest()
    {
        // Given
        var buffer = new ReadOnlySequence<byte>(Bytes("+OK\r\n$5\r\nhel"));

        // When
        var first = RespParser.TryRead(ref buffer, out var reply);
        var afterFirst = buffer;
        var second = RespParser.TryRead(ref buffer, out _);

        // Then
        Assert.True(first, "Expected the complete +OK to be returned");
        ExpectRendered("Simple(OK)", reply);
        Assert.False(second, "Expected the partial bulk string to be reported as incomplete");
        Assert.True(Latin1(buffer) == "$5\r\nhel", $"Expected exactly the partial reply \"$5\\r\\nhel\" to remain but got {RespText.Escape(Latin1(buffer))}");
        ExpectUnconsumed(afterFirst, buffer, "the partial bulk string");
    }

    [Fact]
    public void TryRead_GivenSeveralRepliesAcrossSegments_ReturnsThemOneAfterAnother()
    {
        // Given: two replies whose boundary falls inside the second segment
        var bytes = Bytes("*2\r\n:1\r\n:2\r\n$4\r\nx\r\ny\r\n");
        var buffer = Segments(bytes, 6, 15);

        // When
        var firstDone = RespParser.TryRead(ref buffer, out var first);
        var secondDone = RespParser.TryRead(ref buffer, out var second);

        // Then
        Assert.True(firstDone && secondDone, "Expected both replies to be read from the segmented buffer");
        ExpectRendered("Array[Integer(1), Integer(2)]", first);
        ExpectRendered("Bulk(x\\r\\ny)", second);
        Assert.True(buffer.IsEmpty, $"Expected nothing left but {buffer.Length} bytes were left");
    }

    // ----- malformed input -----

    [Theory]
    [InlineData("?what\r\n", "'?'")]
    [InlineData("@\r\n", "'@'")]
    [InlineData("hello\r\n", "'h'")]
    [InlineData("\u0001\r\n", "0x01")]
    public void TryRead_GivenUnknownTypeByte_ThrowsNamingTheByte(string wire, string named)
    {
        ExpectProtocolError(wire, "unexpected byte", named);
    }

    [Fact]
    public void TryRead_GivenUnknownTypeByteBeforeAnyLineEnd_ThrowsAtOnce()
    {
        // Given: a byte that no RESP reply can start with, and no CRLF yet. The parser's contract is
        // that bytes which can never become a valid reply throw, rather than waiting for more input.
        ExpectProtocolError("?", "unexpected byte", "'?'");
    }

    [Theory]
    [InlineData("$abc\r\n", "bulk string length", "'abc'")]
    [InlineData("$\r\n", "bulk string length", "not a number")]
    [InlineData("$1x\r\n", "bulk string length", "'1x'")]
    [InlineData("*two\r\n", "array length", "'two'")]
    [InlineData("%x\r\n", "map length", "'x'")]
    [InlineData(":12a\r\n", "integer", "'12a'")]
    [InlineData(":\r\n", "integer", "not a number")]
    [InlineData(",abc\r\n", "double", "'abc'")]
    public void TryRead_GivenNonNumericNumber_ThrowsNamingTheField(string wire, string field, string detail)
    {
        ExpectProtocolError(wire, field, detail, "not a number");
    }

    [Theory]
    [InlineData("$-2\r\n", "bulk string length -2")]
    [InlineData("*-5\r\n", "array length -5")]
    [InlineData("!-3\r\n", "bulk string length -3")]
    [InlineData("%-2\r\n", "map length -2")]
    public void TryRead_GivenNegativeLengthOtherThanMinusOne_Throws(string wire, string named)
    {
        ExpectProtocolError(wire, named, "outside -1..");
    }

    [Fact]
    public void TryRead_GivenBulkLengthAboveTheLimit_ThrowsBeforeThePayloadArrives()
    {
        // Given: one byte over Redis's 512 MB bulk limit, and no payload at all
        var wire = $"${RespParser.MaxBulkLength + 1L}\r\n";

        // Then
        ExpectProtocolError(wire, "bulk string length", (RespParser.MaxBulkLength + 1L).ToString(CultureInfo.InvariantCulture), "outside");
    }

    [Theory]
    [InlineData("$3\r\nfooXY")]
    [InlineData("$3\r\nfoo\n\r")]
    [InlineData("$0\r\nab")]
    [InlineData("*1\r\n$1\r\nab\r\n")]
    public void TryRead_GivenBulkNotFollowedByCrlf_Throws(string wire)
    {
        ExpectProtocolError(wire, "not followed by CRLF");
    }

    [Theory]
    [InlineData("#x\r\n", "'x'")]
    [InlineData("#true\r\n", "'true'")]
    [InlineData("#\r\n", "''")]
    [InlineData("#T\r\n", "'T'")]
    public void TryRead_GivenBadBoolean_Throws(string wire, string named)
    {
        ExpectProtocolError(wire, "boolean", named, "neither t nor f");
    }

    [Fact]
    public void TryRead_GivenNoCrlfWithinTheLineLimit_Throws()
    {
        // Given: more than the line limit of bytes and still no CRLF
        var wire = "+" + new string('a', RespParser.MaxLineLength + 1);

        // Then
        ExpectProtocolError(wire, "no CRLF within", RespParser.MaxLineLength.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void TryRead_GivenCompleteLineLongerThanTheLimit_Throws()
    {
        // Given: a line over the limit that does end in CRLF
        var wire = "-" + new string('e', RespParser.MaxLineLength + 1) + "\r\n";

        // Then
        ExpectProtocolError(wire, "longer than", RespParser.MaxLineLength.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void TryRead_GivenNestingFarTooDeep_Throws()
    {
        // Given: a thousand arrays inside each other
        var wire = string.Concat(Enumerable.Repeat("*1\r\n", 1000)) + ":1\r\n";

        // Then
        ExpectProtocolError(wire, "nested deeper than");
    }

    [Fact]
    public void TryRead_GivenModerateNesting_ParsesIt()
    {
        // Given: 32 arrays inside each other (well within any sensible limit)
        var wire = string.Concat(Enumerable.Repeat("*1\r\n", 32)) + ":1\r\n";

        // When
        var reply = ParseWhole(wire);

        // Then
        var depth = 0;
        while (reply.Kind == RedisReplyKind.Array)
        {
            reply = reply[0];
            depth++;
        }

        Assert.True(depth == 32 && reply.AsInt64() == 1, $"Expected 32 nested arrays around the integer 1 but found {depth} around {reply}");
    }

    // ----- helpers -----

    private static RedisReply ParseWhole(string wire) => ParseWhole(Bytes(wire));

    private static RedisReply ParseWhole(byte[] wire)
    {
        var buffer = new ReadOnlySequence<byte>(wire);
        var done = RespParser.TryRead(ref buffer, out var reply);
        Assert.True(done, $"Expected TryRead to return a reply from {RespText.Escape(Encoding.Latin1.GetString(wire))}");
        Assert.True(buffer.IsEmpty, $"Expected the reply to consume all {wire.Length} bytes but {buffer.Length} were left");
        return reply;
    }

    private static void ExpectProtocolError(string wire, params string[] fragments)
    {
        // Given
        var buffer = new ReadOnlySequence<byte>(Bytes(wire));

        // When
        var thrown = Record.Exception(() => RespParser.TryRead(ref buffer, out _));

        // Then
        if (thrown is not RedisProtocolException error)
        {
            Assert.Fail($"Expected RedisProtocolException for {RespText.Escape(Shorten(wire))} but got {(thrown is null ? "no exception (TryRead returned normally)" : thrown.GetType().Name + ": " + thrown.Message)}");
            return;
        }

        foreach (var fragment in fragments)
        {
            Assert.True(error.Message.Contains(fragment, StringComparison.Ordinal),
                $"Expected the error for {RespText.Escape(Shorten(wire))} to mention \"{fragment}\" but it said: {error.Message}");
        }
    }

    private static void ExpectKind(RedisReplyKind expected, RedisReply reply) =>
        Assert.True(reply.Kind == expected, $"Expected a {expected} reply but got {reply.Kind}: {Render(reply)}");

    private static void ExpectText(string expected, RedisReply reply) =>
        Assert.True(reply.AsString() == expected, $"Expected text \"{expected}\" but got \"{reply.AsString()}\"");

    private static void ExpectBytes(string expected, RedisReply reply)
    {
        var actual = reply.AsBytes();
        Assert.True(actual is not null && actual.AsSpan().SequenceEqual(Bytes(expected)),
            $"Expected bytes {RespText.Escape(expected)} but got {(actual is null ? "null" : RespText.Escape(Encoding.Latin1.GetString(actual)))}");
    }

    private static void ExpectRendered(string expected, RedisReply reply, string context = "")
    {
        var actual = Render(reply);
        Assert.True(actual == expected, $"Expected {expected} but got {actual}{(context.Length > 0 ? " (" + context + ")" : "")}");
    }

    private static void ExpectUnconsumed(ReadOnlySequence<byte> before, ReadOnlySequence<byte> after, string what) =>
        Assert.True(after.Length == before.Length && after.Start.Equals(before.Start),
            $"Expected nothing to be consumed from {what} but the buffer went from {before.Length} to {after.Length} bytes");

    /// <summary>Kind and value of a reply, type by type, so expectations can tell a bulk "1" from an integer 1.</summary>
    private static string Render(RedisReply reply) => reply.Kind switch
    {
        RedisReplyKind.Null => "Null",
        RedisReplyKind.SimpleString => $"Simple({RespText.Escape(reply.AsString()!)})",
        RedisReplyKind.Error => $"Error({RespText.Escape(reply.AsString()!)})",
        RedisReplyKind.BulkString => $"Bulk({RespText.Escape(Encoding.Latin1.GetString(reply.AsBytes()!))})",
        RedisReplyKind.VerbatimString => $"Verbatim({RespText.Escape(reply.AsString()!)})",
        RedisReplyKind.BigNumber => $"BigNumber({reply.AsString()})",
        RedisReplyKind.Integer => $"Integer({reply.AsInt64().ToString(CultureInfo.InvariantCulture)})",
        RedisReplyKind.Double => $"Double({reply.AsDouble().ToString("R", CultureInfo.InvariantCulture)})",
        RedisReplyKind.Boolean => $"Boolean({reply.AsBoolean()})",
        RedisReplyKind.Array => $"Array[{string.Join(", ", reply.Items.Select(Render))}]",
        RedisReplyKind.Map => $"Map[{string.Join(", ", reply.Items.Select(Render))}]",
        RedisReplyKind.Set => $"Set[{string.Join(", ", reply.Items.Select(Render))}]",
        RedisReplyKind.Push => $"Push[{string.Join(", ", reply.Items.Select(Render))}]",
        _ => $"Unknown({reply.Kind})",
    };

    private static byte[] Bytes(string latin1) => Encoding.Latin1.GetBytes(latin1);

    private static string Latin1(ReadOnlySequence<byte> buffer) => Encoding.Latin1.GetString(buffer.ToArray());


    private static string Shorten(string text) => text.Length > 60 ? text[..60] + "…" : text;


    /// <summary>A sequence of several segments, cut at the given offsets (each segment its own array).</summary>
    private static ReadOnlySequence<byte> Segments(byte[] bytes, params int[] cuts)
    {
        var bounds = new[] { 0 }.Concat(cuts).Append(bytes.Length).ToArray();
        Segment? first = null;
        Segment? last = null;
        for (var i = 0; i + 1 < bounds.Length; i++)
        {
            var piece = bytes[bounds[i]..bounds[i + 1]];
            last = last is null ? first = new Segment(piece, 0) : last.Append(piece);
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long runningIndex)
        {
            Memory = bytes;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
