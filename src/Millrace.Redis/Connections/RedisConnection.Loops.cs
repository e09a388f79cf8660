using System.Buffers;

namespace Millrace.Redis.Connections;

internal sealed partial class RedisConnection
{
    /// <summary>Flush early when this much is buffered, so one huge burst does not sit in memory.</summary>
    private const int FlushThreshold = 256 * 1024;

    /// <summary>A partial reply this large is scanned for completeness instead of re-parsed on every read.</summary>
    private const int LargeFrameBytes = 64 * 1024;

    private readonly RespFrameScanner _scanner = new();
    private bool _largeFrame;

    private void StartLoops()
    {
        _writeLoop = Task.Run(WriteLoopAsync);
        _readLoop = Task.Run(ReadLoopAsync);
    }

    private async Task WriteLoopAsync()
    {
        var outbox = _outbox.Reader;
        try
        {
            while (await outbox.WaitToReadAsync(_closing.Token).ConfigureAwait(false))
            {
                while (outbox.TryRead(out var pending))
                {
                    if (pending.IsDone)
                    {
                        continue;   // cancelled or timed out before it was written: nothing to answer
                    }

                    // Registered as waiting before its bytes exist, so its reply always finds it.
                    if (pending is not UnansweredCommand)
                    {
                        _awaiting.Enqueue(pending);
                    }

                    if (pending is PendingCommand single)
                    {
                        RespWriter.Write(_output, single.Command);   // the common case: no list, no enumerator
                    }
                    else
                    {
                        var commands = pending.Commands;
                        for (var i = 0; i < commands.Count; i++)
                        {
                            RespWriter.Write(_output, commands[i]);
                        }
                    }

                    if (_output.UnflushedBytes >= FlushThreshold)
                    {
                        await _output.FlushAsync(_closing.Token).ConfigureAwait(false);
                    }
                }

                // One flush per burst: everything queued while the last flush ran goes out together.
                await _output.FlushAsync(_closing.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && !IsHealthy)
        {
            // The connection failed elsewhere; Fail has the reason.
        }
        catch (Exception e)
        {
            Fail(new RedisConnectionException($"Writing to Redis at {Endpoint} failed: {e.Message}", e));
        }
        finally
        {
            if (!IsHealthy)
            {
                FailWaiting();
            }
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync(_closing.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                Volatile.Write(ref _lastReplyAt, Environment.TickCount64);
                try
                {
                    while (true)
                    {
                        // A large partial reply is only scanned (resumably) until it is whole, then parsed once.
                        if (_largeFrame && !_scanner.IsComplete(buffer))
                        {
                            break;
                        }

                        if (!RespParser.TryRead(ref buffer, out var reply))
                        {
                            _largeFrame = buffer.Length >= LargeFrameBytes;
                            break;
                        }

                        _largeFrame = false;
                        _scanner.Reset();
                        Deliver(reply);
                    }
                }
                catch (RedisProtocolException e)
                {
                    Fail(new RedisProtocolException($"Redis at {Endpoint} sent a malformed reply: {e.Message}. The connection was closed.", e));
                    return;
                }

                if (result.IsCompleted)
                {
                    Fail(buffer.IsEmpty
                        ? new RedisConnectionException($"Redis at {Endpoint} closed the connection.")
                        : new RedisProtocolException($"Redis at {Endpoint} closed the connection in the middle of a reply ({buffer.Length} bytes of it had arrived)."));
                    return;
                }

                _input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && !IsHealthy)
        {
            // The connection failed elsewhere; Fail has the reason.
        }
        catch (Exception e)
        {
            Fail(new RedisConnectionException($"Reading from Redis at {Endpoint} failed: {e.Message}", e));
        }
    }

    private void Deliver(RedisReply reply)
    {
        var sink = Volatile.Read(ref _pushSink);
        if (sink is not null)
        {
            sink(reply);
            return;
        }

        if (reply.Kind == RedisReplyKind.Push)
        {
            return;   // out-of-band RESP3 push on a command connection (e.g. tracking): not ours to answer
        }

        if (!_awaiting.TryPeek(out var pending))
        {
            throw new RedisProtocolException("a reply arrived when no command was waiting for one");
        }

        if (pending.Receive(reply))
        {
            _awaiting.TryDequeue(out _);
        }

        // A primary that was demoted by a failover answers writes with READONLY: this connection
        // now points at a replica, so drop it and let the next command find the new primary.
        if (reply.IsError && Role is ConnectionRole.Interactive or ConnectionRole.Blocking && StartsWith(reply, "READONLY"u8))
        {
            Fail(new RedisConnectionException($"Redis at {Endpoint} is now a read-only replica; reconnecting to the primary."));
        }
    }

    private static bool StartsWith(RedisReply reply, ReadOnlySpan<byte> prefix) =>
        reply.AsBytes() is { } bytes && bytes.AsSpan().StartsWith(prefix);
}
