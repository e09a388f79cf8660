using System.Buffers;
using System.Text;

namespace Millrace.Redis.Tests.Protocol;

public sealed class RespFrameScannerUnitTests
{
    public static TheoryData<string> Frames =>
    [
        "+OK\r\n",
        "$5\r\nhel\r\n\r\n",
        "$-1\r\n",
        "*-1\r\n",
        "*0\r\n",
        "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$4\r\nv\r\nx\r\n:7\r\n",
        "%2\r\n+a\r\n*1\r\n:1\r\n+b\r\n_\r\n",
        "|1\r\n+key\r\n+val\r\n*2\r\n,1.5\r\n#t\r\n",
        ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$0\r\n\r\n",
    ];

    [Theory]
    [MemberData(nameof(Frames))]
    public void A_frame_is_incomplete_at_every_split_point_and_complete_when_whole(string frame)
    {
        var bytes = Encoding.Latin1.GetBytes(frame + "+next\r\n");
        var length = Encoding.Latin1.GetByteCount(frame);

        for (var cut = 0; cut < length; cut++)
        {
            Assert.False(new RespFrameScanner().IsComplete(new ReadOnlySequence<byte>(bytes, 0, cut)), $"fresh scanner: {cut} of {length} bytes should be incomplete");
        }

        // One scanner fed growing prefixes, as the reader does across socket reads.
        var resumed = new RespFrameScanner();
        for (var cut = 0; cut < length; cut++)
        {
            Assert.False(resumed.IsComplete(new ReadOnlySequence<byte>(bytes, 0, cut)), $"resumed scanner: {cut} of {length} bytes should be incomplete");
        }

        Assert.True(resumed.IsComplete(new ReadOnlySequence<byte>(bytes, 0, length)), "resumed scanner: the whole frame should be complete");
        Assert.True(new RespFrameScanner().IsComplete(new ReadOnlySequence<byte>(bytes)), "with the next reply after it, the frame should be complete");
    }

    [Theory]
    [InlineData("?garbage")]
    [InlineData("$abc\r\n")]
    public void Bytes_that_are_not_RESP_count_as_complete_so_the_parser_reports_them(string text)
    {
        Assert.True(new RespFrameScanner().IsComplete(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text))));
    }
}
