using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading.Channels;

namespace Millrace.Redis.Connections;

/// <summary>
/// One connection to one server. Callers queue commands into an outbox; a single writer loop writes
/// everything queued and flushes once per burst, so concurrent callers are pipelined for free. A
/// single reader loop parses replies and completes the oldest waiting command, because Redis
/// answers in order. When the connection fails every waiting command fails at once with the reason.
/// </summary>
internal sealed partial class RedisConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Channel<IPendingReply> _outbox = Channel.CreateUnbounded<IPendingReply>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly ConcurrentQueue<IPendingReply> _awaiting = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource<Exception> _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _commandTimeoutMs;
    private readonly Timer _timeoutSweep;
    private Task _writeLoop = Task.CompletedTask;
    private Task _readLoop = Task.CompletedTask;
    private Exception? _failure;
    private Action<RedisReply>? _pushSink;
    private long _lastReplyAt = Environment.TickCount64;

    private RedisConnection(Stream stream, RedisEndpoint endpoint, ConnectionRole role, TimeSpan commandTimeout)
    {
        _stream = stream;
        Endpoint = endpoint;
        Role = role;
        _commandTimeoutMs = (long)commandTimeout.TotalMilliseconds;
        _input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 8 * 1024, leaveOpen: true));
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
        var sweepEvery = TimeSpan.FromMilliseconds(Math.Clamp(_commandTimeoutMs / 5, 20, 500));
        _timeoutSweep = new Timer(static state => ((RedisConnection)state!).SweepTimeouts(), this, sweepEvery, sweepEvery);
    }

    public RedisEndpoint Endpoint { get; }

    /// <summary>SHA1s of scripts this connection has loaded (a fresh connection may face a server that lost them).</summary>
    public ConcurrentDictionary<string, bool> LoadedScripts { get; } = new(StringComparer.Ordinal);

    public ConnectionRole Role { get; }

    /// <summary>False once the connection has failed or been closed; it never comes back (make a new one).</summary>
    public bool IsHealthy => Volatile.Read(ref _failure) is null;

    /// <summary>Completes with the reason when the connection fails or is closed.</summary>
    public Task<Exception> Failed => _failed.Task;

    /// <summary>Queues one command. Error replies fault the task with <see cref="RedisServerException"/>.</summary>
    public Task<RedisReply> SendAsync(RedisCommand command, CancellationToken cancellationToken = default) => SendAsync(command, 0, cancellationToken);

    /// <summary>Queues one command that may legitimately take <paramref name="extraTimeoutMs"/> longer than the command timeout (a blocking read).</summary>
    public Task<RedisReply> SendAsync(RedisCommand command, long extraTimeoutMs, CancellationToken cancellationToken)
    {
        var pending = new PendingCommand(command, Environment.TickCount64 + _commandTimeoutMs + extraTimeoutMs);
        Enqueue(pending);
        if (cancellationToken.CanBeCanceled && !pending.IsDone)
        {
            return WithCancellation(pending, cancellationToken);
        }

        return pending.Task;
    }

    /// <summary>Queues commands to be written back to back; the task gets every reply, errors included.</summary>
    public Task<RedisReply[]> SendBatchAsync(IReadOnlyList<RedisCommand> commands, CancellationToken cancellationToken = default) =>
        SendBatchAsync(commands, 0, cancellationToken);

    /// <summary>Queues a batch that may take <paramref name="extraTimeoutMs"/> longer than the command timeout.</summary>
    public Task<RedisReply[]> SendBatchAsync(IReadOnlyList<RedisCommand> commands, long extraTimeoutMs, CancellationToken cancellationToken)
    {
        if (commands.Count == 0)
        {
            return Task.FromResult(Array.Empty<RedisReply>());
        }

        var pending = new PendingBatch(commands, Environment.TickCount64 + _commandTimeoutMs + extraTimeoutMs);
        Enqueue(pending);
        if (cancellationToken.CanBeCanceled && !pending.IsDone)
        {
            return WithCancellation(pending, cancellationToken);
        }

        return pending.Task;
    }

    /// <summary>Switches to pub/sub mode: from now on every frame goes to <paramref name="sink"/>.</summary>
    public void EnterSubscriberMode(Action<RedisReply> sink) => Volatile.Write(ref _pushSink, sink);

    /// <summary>Queues a command whose answers arrive as pushes (SUBSCRIBE and friends).</summary>
    public void SendUnanswered(RedisCommand command) => Enqueue(new UnansweredCommand(command));

    /// <summary>Closes the connection: waiting commands fail, and so does anything queued later.</summary>
    public void Abort(Exception reason) => Fail(reason);

    public async ValueTask DisposeAsync()
    {
        Fail(new RedisConnectionException($"The connection to {Endpoint} was closed by this client."));
        await Task.WhenAll(_writeLoop, _readLoop).ConfigureAwait(false);
        _closing.Dispose();
    }

    private static async Task<T> WithCancellation<T>(TaskCompletionSource<T> pending, CancellationToken cancellationToken)
    {
        // The command may already be on the wire: cancelling only stops the wait; its reply is dropped.
        using (cancellationToken.UnsafeRegister(static (state, token) => ((TaskCompletionSource<T>)state!).TrySetCanceled(token), pending))
        {
            return await pending.Task.ConfigureAwait(false);
        }
    }

    private void Enqueue(IPendingReply pending)
    {
        var failure = Volatile.Read(ref _failure);
        if (failure is not null || !_outbox.Writer.TryWrite(pending))
        {
            pending.Fail(CommandFailed(pending, failure ?? Volatile.Read(ref _failure)));
        }
    }

    /// <summary>Marks the connection failed (first reason wins) and fails everything waiting on it.</summary>
    private void Fail(Exception reason)
    {
        if (Interlocked.CompareExchange(ref _failure, reason, null) is not null)
        {
            FailWaiting();
            return;
        }

        _outbox.Writer.TryComplete();
        _timeoutSweep.Dispose();
        _failed.TrySetResult(reason);
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: the loops have ended.
        }

        // Closing the stream ends a read or write that is stuck in the socket.
        _stream.Dispose();
        FailWaiting();
    }

    private void FailWaiting()
    {
        var failure = Volatile.Read(ref _failure)!;
        while (_awaiting.TryDequeue(out var pending))
        {
            pending.Fail(CommandFailed(pending, failure));
        }

        while (_outbox.Reader.TryRead(out var queued))
        {
            queued.Fail(CommandFailed(queued, failure));
        }
    }

    private Exception CommandFailed(IPendingReply pending, Exception? failure)
    {
        var what = pending.Commands.Count == 1 ? pending.Commands[0].ToString() : $"a batch of {pending.Commands.Count} commands";
        return failure switch
        {
            RedisAuthenticationException or RedisProtocolException => failure,
            RedisConnectionException or RedisTimeoutException =>
                new RedisConnectionException($"{what} failed: {failure.Message} It may or may not have run on the server.", failure),
            null => new RedisConnectionException($"{what} failed: the connection to {Endpoint} is closed."),
            _ => new RedisConnectionException($"{what} failed: the connection to {Endpoint} broke ({failure.Message}). It may or may not have run on the server.", failure),
        };
    }

    /// <summary>
    /// Fails commands whose caller waited past the command timeout. A reply that then arrives is
    /// dropped. If the oldest command is overdue by a further timeout, the server or the network is
    /// stuck: the connection is failed so the client reconnects instead of waiting forever.
    /// </summary>
    private void SweepTimeouts()
    {
        if (!IsHealthy)
        {
            return;
        }

        var now = Environment.TickCount64;
        foreach (var pending in _awaiting)
        {
            if (pending.Deadline > now)
            {
                break;   // commands on one connection queue up in deadline order
            }

            if (!pending.IsDone)
            {
                var waited = now - pending.Deadline + _commandTimeoutMs;
                pending.Fail(new RedisTimeoutException(
                    $"Redis at {Endpoint} did not answer {Describe(pending)} within {waited} ms (command timeout {_commandTimeoutMs} ms). It may or may not have run."));
            }

            if (now - pending.Deadline > _commandTimeoutMs && now - Volatile.Read(ref _lastReplyAt) > _commandTimeoutMs)
            {
                Fail(new RedisConnectionException($"Redis at {Endpoint} sent nothing for {now - Volatile.Read(ref _lastReplyAt)} ms while commands waited; the connection was dropped."));
                return;
            }
        }
    }

    private static string Describe(IPendingReply pending) =>
        pending.Commands.Count == 1 ? pending.Commands[0].ToString() : $"a batch of {pending.Commands.Count} commands";
}
