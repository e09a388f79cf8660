using System.Text;

namespace Millrace.Redis.Tests.Topology;

/// <summary>
/// HashSlot: CRC16 (XMODEM) and Redis Cluster's key-to-slot rule with hash tags. Every expected slot
/// here was read from a real Redis Cluster with <c>redis-cli -p 7000 cluster keyslot KEY</c>.
/// </summary>
public sealed class HashSlotUnitTests
{
    [Fact]
    public void Crc16_GivenTheStandardCheckInput_ReturnsTheXmodemCheckValue()
    {
        // Given: the check string every CRC catalogue uses
        var input = "123456789"u8;

        // When
        var crc = HashSlot.Crc16(input);

        // Then: CRC-16/XMODEM's published check value
        Assert.True(crc == 0x31C3, $"Expected CRC16 of \"123456789\" to be 0x31C3 but got 0x{crc:X4}");
    }

    [Fact]
    public void Crc16_GivenNoBytes_ReturnsTheInitialValueZero()
    {
        // Given / When
        var crc = HashSlot.Crc16([]);

        // Then
        Assert.True(crc == 0, $"Expected CRC16 of no bytes to be 0 but got 0x{crc:X4}");
    }

    [Theory]
    [InlineData("foo", 12182)]
    [InlineData("bar", 5061)]
    [InlineData("hello", 866)]
    [InlineData("123456789", 12739)]
    [InlineData("user1000", 3443)]
    [InlineData("", 0)]
    [InlineData("é", 10180)]
    [InlineData("ключ", 10303)]
    public void Of_GivenKeyWithoutHashTag_ReturnsTheSlotRedisComputes(string key, int expected)
    {
        // Given / When
        var slot = HashSlot.Of(key);

        // Then
        ExpectSlot(expected, slot, key);
    }

    [Fact]
    public void Of_GivenKeysSharingAHashTag_PutsThemInTheSameSlotAsTheTag()
    {
        // Given
        const string following = "{user1000}.following";
        const string followers = "{user1000}.followers";

        // When
        var first = HashSlot.Of(following);
        var second = HashSlot.Of(followers);

        // Then
        ExpectSlot(3443, first, following);
        ExpectSlot(3443, second, followers);
        ExpectSlot(HashSlot.Of("user1000"), first, following + " (same as its tag user1000)");
    }

    [Theory]
    [InlineData("foo{}{bar}", 8363)]    // empty first tag: the whole key is hashed
    [InlineData("foo{{bar}}zap", 4015)] // the tag is "{bar" (from the first '{' to the first '}' after it)
    [InlineData("foo{bar}{zap}", 5061)] // only the first tag counts: "bar"
    [InlineData("a{b}c", 3300)]
    [InlineData("{ключ}:x", 10303)]
    [InlineData("foo{bar", 15278)]     // no closing brace: the whole key
    [InlineData("foo}bar{", 11073)]    // a '}' before the '{' does not close it
    [InlineData("{}", 15257)]
    [InlineData("foo{}", 5542)]
    public void Of_GivenHashTagEdgeCase_ReturnsTheSlotRedisComputes(string key, int expected)
    {
        // Given / When
        var slot = HashSlot.Of(key);

        // Then
        ExpectSlot(expected, slot, key);
    }

    [Fact]
    public void Of_GivenTagWithLeadingBrace_HashesTheTagIncludingThatBrace()
    {
        // Given
        const string key = "foo{{bar}}zap";

        // When
        var slot = HashSlot.Of(key);

        // Then: the same slot as the literal key "{bar"
        ExpectSlot(HashSlot.Of("{bar"), slot, key + " (same as \"{bar\")");
        ExpectSlot(4015, slot, key);
    }

    [Fact]
    public void Of_GivenBinaryKey_HashesTheRawBytes()
    {
        // Given: bytes 'a', 0x01, 'b'
        var key = new byte[] { (byte)'a', 0x01, (byte)'b' };

        // When
        var slot = HashSlot.Of(key);

        // Then
        ExpectSlot(5006, slot, "a\\x01b");
    }

    [Fact]
    public void Of_GivenNonAsciiTagAsTextAndAsUtf8Bytes_ReturnsTheTagsSlotBothWays()
    {
        // Given
        const string key = "{ключ}:orders";

        // When
        var fromText = HashSlot.Of(key);
        var fromBytes = HashSlot.Of(Encoding.UTF8.GetBytes(key));

        // Then: the slot of the tag "ключ" hashed as UTF-8
        ExpectSlot(10303, fromText, key);
        ExpectSlot(10303, fromBytes, key + " as UTF-8 bytes");
    }

    private static void ExpectSlot(int expected, int actual, string key) =>
        Assert.True(expected == actual, $"Expected key \"{key}\" in slot {expected} (as Redis computes it) but got {actual}");
}
