using System.Text;

namespace Millrace.Tests.Publishing.Backup;

/// <summary>The journal's own CRC-32 and record format, without Redis.</summary>
public sealed class JournalRecordCodecUnitTests
{
    [Fact]
    public void Given_the_standard_check_input_When_hashed_Then_the_CRC32_is_the_IEEE_check_value()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0u, Crc32.Compute([]));
    }

    [Fact]
    public void Given_random_inputs_When_hashed_in_slices_Then_the_result_matches_a_bitwise_CRC32_and_incremental_hashing()
    {
        var random = new Random(7);
        foreach (var length in new[] { 1, 7, 8, 9, 15, 16, 17, 100, 4096, 10_001 })
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(Bitwise(data), Crc32.Compute(data));
            var split = length / 3;
            Assert.Equal(Crc32.Compute(data), Crc32.Append(Crc32.Compute(data.AsSpan(0, split)), data.AsSpan(split)));
        }

        static uint Bitwise(byte[] data)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in data)
            {
                crc ^= b;
                for (var k = 0; k < 8; k++)
                {
                    crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
                }
            }

            return ~crc;
        }
    }

    [Fact]
    public void Given_a_message_with_every_field_When_written_and_read_Then_it_comes_back_the_same()
    {
        var message = new OutgoingMessage
        {
            Queue = "orders.created",
            Type = "order.created",
            Id = "0192f0c0a1b27c3d8e4f5a6b7c8d9e0f",
            Payload = Encoding.UTF8.GetBytes("{\"order\":\"ORD-12345\",\"金额\":99.99}"),
            Headers = new Dictionary<string, string> { ["traceparent"] = "00-abc-def-01", ["来源"] = "备份生产者" },
            Priority = -3,
            Tenant = "tenant-a",
            PartitionKey = "customer-9",
            DedupKey = "order-12345",
            DedupTtl = TimeSpan.FromMinutes(90),
            DeliverAt = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_123),
        };
        var journaledAt = DateTimeOffset.FromUnixTimeMilliseconds(1_790_000_000_000);
        var buffer = new JournalBuffer(16);

        JournalRecordCodec.Write(buffer, message, journaledAt);

        var bytes = buffer.Written.Span;
        var length = BitConverter.ToUInt32(bytes);
        Assert.Equal(bytes.Length - JournalRecordCodec.RecordHeaderBytes, (int)length);
        Assert.Equal(JournalRecordCodec.Checksum(length, bytes[8..]), BitConverter.ToUInt32(bytes[4..]));
        var back = JournalRecordCodec.Read(bytes[8..], out var at);
        Assert.Equal(journaledAt, at);
        Assert.Equal(
            (message.Queue, message.Type, message.Id, message.Priority, message.Tenant, message.PartitionKey, message.DedupKey, message.DedupTtl, message.DeliverAt),
            (back.Queue, back.Type, back.Id, back.Priority, back.Tenant, back.PartitionKey, back.DedupKey, back.DedupTtl, back.DeliverAt));
        Assert.Equal(message.Payload.ToArray(), back.Payload.ToArray());
        Assert.Equal(message.Headers, back.Headers);
        Assert.Null(back.Delay);
    }

    [Fact]
    public void Given_a_minimal_message_When_written_and_read_Then_the_optional_fields_stay_empty()
    {
        var buffer = new JournalBuffer();
        JournalRecordCodec.Write(buffer, new OutgoingMessage { Queue = "q", Type = "t", Id = "i" }, DateTimeOffset.UnixEpoch);

        var back = JournalRecordCodec.Read(buffer.Written.Span[8..], out _);

        Assert.Equal(("q", "t", "i", 0, 0), (back.Queue, back.Type, back.Id, back.Payload.Length, back.Priority));
        Assert.Null(back.Headers);
        Assert.Null(back.Tenant);
        Assert.Null(back.PartitionKey);
        Assert.Null(back.DedupKey);
        Assert.Null(back.DedupTtl);
        Assert.Null(back.DeliverAt);
    }

    [Fact]
    public void Given_a_payload_cut_short_or_with_an_unknown_version_When_read_Then_it_is_refused_with_the_reason()
    {
        var buffer = new JournalBuffer();
        JournalRecordCodec.Write(buffer, new OutgoingMessage { Queue = "q", Type = "t", Id = "i", Payload = new byte[10] }, DateTimeOffset.UnixEpoch);
        var payload = buffer.Written.Span[8..].ToArray();

        var cut = Assert.Throws<FormatException>(() => JournalRecordCodec.Read(payload.AsSpan(0, payload.Length - 3), out _));
        Assert.Contains("ends early", cut.Message);
        payload[0] = 9;
        var version = Assert.Throws<FormatException>(() => JournalRecordCodec.Read(payload, out _));
        Assert.Contains("version 9", version.Message);
    }
}
