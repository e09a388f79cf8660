namespace Millrace;

/// <summary>Where a new consumer group starts reading.</summary>
public enum StartPosition
{
    /// <summary>Only messages published after the group is created (default).</summary>
    Latest,
    /// <summary>Everything still in the stream.</summary>
    Earliest,
    /// <summary>After the entry id in <see cref="ConsumerOptions.StartId"/>.</summary>
    Id,
}

/// <summary>One consumer: a group on a queue, and how this process works through it.</summary>
public sealed class ConsumerOptions
{
    /// <summary>The queue to consume.</summary>
    public string Queue { get; set; } = "";

    /// <summary>The consumer group: one group is a work queue; several groups on one queue each get every message (fan-out).</summary>
    public string Group { get; set; } = "workers";

    /// <summary>
    /// This process's name in the group; unique per process by default (machine, process id, random).
    /// Give a stable name (a pod name) to have a restarted process finish its own pending messages first.
    /// </summary>
    public string? ConsumerName { get; set; }

    /// <summary>Handlers running at once in this process.</summary>
    public int Concurrency { get; set; } = 16;

    /// <summary>
    /// Messages held in this process at once (running plus read and waiting); at least
    /// <see cref="Concurrency"/>. Default: 8 × Concurrency, at least 128. Reads ask for up to this
    /// many, so a small window means many small reads: the e2e benchmark processed 0.18 of
    /// redis-benchmark's rate with a window of 32 and 0.38 with 128.
    /// </summary>
    public int? MaxInFlight { get; set; }

    /// <summary>How long a message may sit unacknowledged on a consumer that stopped renewing its lease before another consumer takes it over.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often to look for messages abandoned by dead consumers. Default: half the visibility timeout.</summary>
    public TimeSpan? ReclaimInterval { get; set; }

    /// <summary>Where a new group starts.</summary>
    public StartPosition StartPosition { get; set; } = StartPosition.Latest;

    /// <summary>The entry id to start after, with <see cref="StartPosition.Id"/>.</summary>
    public string? StartId { get; set; }

    /// <summary>Most entries asked for in one read.</summary>
    public int FetchCount { get; set; } = 256;

    /// <summary>How long one read waits on the server for new messages.</summary>
    public TimeSpan BlockFor { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest a handler may run before its cancellation token fires (infinite by default).</summary>
    public TimeSpan HandlerTimeout { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>On stop, how long running handlers get to finish before their tokens are cancelled.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    internal int EffectiveMaxInFlight => Math.Max(MaxInFlight ?? Math.Max(8 * Concurrency, 128), Concurrency);

    internal TimeSpan EffectiveReclaimInterval => ReclaimInterval ?? TimeSpan.FromTicks(Math.Max(VisibilityTimeout.Ticks / 2, TimeSpan.FromMilliseconds(100).Ticks));

    internal string StartIdForGroup => StartPosition switch
    {
        StartPosition.Earliest => "0",
        StartPosition.Id => StartId!,
        _ => "$",
    };
}
