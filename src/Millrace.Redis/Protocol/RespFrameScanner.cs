using System.Buffers;
using System.Buffers.Text;

namespace Millrace.Redis;

/// <summary>
/// Tells, cheaply and resumably, when a large reply has fully arrived. Re-parsing a big partial
/// reply from its first byte after every socket read is quadratic (a 40,000-entry XRANGE took
/// seconds); the scanner remembers how far it got and which aggregates are still open, reads only
/// headers, skips bulk bodies by their length, and allocates nothing. Anything odd makes it answer
/// "complete" so the real parser runs and reports the problem.
/// </summary>
internal sealed class RespFrameScanner
{
    private readonly Stack<long> _open = new();   // elements still expected, per open aggregate level
    private long _scanned;                        // bytes of the frame known to be complete elements

    public void Reset()
    {
        _open.Clear();
        _scanned = 0;
    }

    /// <summary>True when <paramref name="buffer"/> (which starts at the frame) holds the whole frame.</summary>
    public bool IsComplete(ReadOnlySequence<byte> buffer)
    {
        if (_scanned == 0 && _open.Count == 0)
        {
            _open.Push(1);   // the frame itself: one value
        }

        var reader = new SequenceReader<byte>(buffer);
        reader.Advance(_scanned);
        while (_open.Count > 0)
        {
            if (!reader.TryRead(out var prefix))
            {
                return false;
            }

            if ("+-:$*_,#(!=%~>|"u8.IndexOf(prefix) < 0)
            {
                return true;   // not RESP: the parser will say how
            }

            if (!reader.TryReadTo(out ReadOnlySpan<byte> line, "\r\n"u8))
            {
                return reader.Remaining > RespParser.MaxLineLength;   // let the parser report a runaway line
            }

            long length = 0;
            var counted = prefix is (byte)'$' or (byte)'!' or (byte)'=' or (byte)'*' or (byte)'~' or (byte)'>' or (byte)'%' or (byte)'|';
            if (counted && !(Utf8Parser.TryParse(line, out length, out var used) && used == line.Length))
            {
                return true;   // malformed: the parser will say how
            }

            switch (prefix)
            {
                case (byte)'$' or (byte)'!' or (byte)'=' when length >= 0:
                    if (reader.Remaining < length + 2)
                    {
                        return false;
                    }

                    reader.Advance(length + 2);
                    Completed();
                    break;
                case (byte)'*' or (byte)'~' or (byte)'>' when length > 0:
                    Consume();
                    _open.Push(length);
                    break;
                case (byte)'%' when length > 0:
                    Consume();
                    _open.Push(2 * length);
                    break;
                case (byte)'|':
                    // Attributes precede the value they describe: they add elements without taking its place.
                    if (length > 0)
                    {
                        _open.Push(2 * length);
                    }

                    break;
                case (byte)'+' or (byte)'-' or (byte)':' or (byte)'_' or (byte)',' or (byte)'#' or (byte)'(' or (byte)'$' or (byte)'!' or (byte)'=' or (byte)'*' or (byte)'~' or (byte)'>' or (byte)'%':
                    Completed();   // a line value, or a null / empty aggregate
                    break;
                default:
                    return true;   // not RESP: the parser will say how
            }

            _scanned = reader.Consumed;
        }

        return true;
    }

    /// <summary>An element finished: count it, and close every aggregate it completes.</summary>
    private void Completed()
    {
        Consume();
        while (_open.Count > 0 && _open.Peek() == 0)
        {
            _open.Pop();
            if (_open.Count == 0)
            {
                return;
            }
        }
    }

    private void Consume() => _open.Push(_open.Pop() - 1);
}
