namespace Millrace.Redis.Connections;

/// <summary>
/// Commands written together on one connection, waiting for their replies. Redis answers in order,
/// so the reader fills the oldest unit first. A unit that timed out or was cancelled stays queued
/// until its replies arrive (and are dropped) so later replies still meet their own commands.
/// </summary>
internal interface IPendingReply
{
    IReadOnlyList<RedisCommand> Commands { get; }

    /// <summary>When the caller stops waiting (<see cref="Environment.TickCount64"/> milliseconds).</summary>
    long Deadline { get; }

    bool IsDone { get; }

    /// <summary>Takes the next reply; true when the unit has all of its replies.</summary>
    bool Receive(RedisReply reply);

    void Fail(Exception error);
}

/// <summary>One command and its caller's task.</summary>
internal sealed class PendingCommand(RedisCommand command, long deadline)
    : TaskCompletionSource<RedisReply>(TaskCreationOptions.RunContinuationsAsynchronously), IPendingReply
{
    private RedisCommand[]? _commands;

    public RedisCommand Command { get; } = command;

    public IReadOnlyList<RedisCommand> Commands => _commands ??= [Command];

    public long Deadline { get; } = deadline;

    public bool IsDone => Task.IsCompleted;

    public bool Receive(RedisReply reply)
    {
        if (reply.IsError)
        {
            TrySetException(new RedisServerException(reply.AsString()!, Command.ToString()));
        }
        else
        {
            TrySetResult(reply);
        }

        return true;
    }

    public void Fail(Exception error) => TrySetException(error);
}

/// <summary>Several commands written back to back, answered as one array (error replies included, not thrown).</summary>
internal sealed class PendingBatch(IReadOnlyList<RedisCommand> commands, long deadline)
    : TaskCompletionSource<RedisReply[]>(TaskCreationOptions.RunContinuationsAsynchronously), IPendingReply
{
    private readonly RedisReply[] _replies = new RedisReply[commands.Count];
    private int _received;

    public IReadOnlyList<RedisCommand> Commands { get; } = commands;

    public long Deadline { get; } = deadline;

    public bool IsDone => Task.IsCompleted;

    public bool Receive(RedisReply reply)
    {
        _replies[_received++] = reply;
        if (_received < _replies.Length)
        {
            return false;
        }

        TrySetResult(_replies);
        return true;
    }

    public void Fail(Exception error) => TrySetException(error);
}

/// <summary>A command that gets no reply of its own (SUBSCRIBE on a subscriber connection: replies come as pushes).</summary>
internal sealed class UnansweredCommand(RedisCommand command) : IPendingReply
{
    public IReadOnlyList<RedisCommand> Commands { get; } = [command];

    public long Deadline => long.MaxValue;

    public bool IsDone => false;

    public bool Receive(RedisReply reply) => true;

    public void Fail(Exception error)
    {
    }
}
