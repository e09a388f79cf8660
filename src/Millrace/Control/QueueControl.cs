using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// A worker's view of the operator's switches for one queue: paused, paused types, stopped
/// messages. Refreshed at once when a change is announced on the queue's events channel, and at
/// least every second in case an announcement was missed (pub/sub does not queue), so a pause
/// reaches every worker within a second.
/// </summary>
internal sealed class QueueControl(IRedisClient redis, QueueKeys keys, ILogger logger)
{
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(1);

    private volatile Snapshot _state = Snapshot.Empty;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Paused => _state.Paused;

    public bool IsStopped(string messageId) => _state.Stopped.Contains(messageId);

    public bool IsTypePaused(string type) => _state.PausedTypes.Contains(type);

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var replies = await redis.ExecuteBatchAsync(
            [new RedisCommand("HGETALL", [keys.Control], 0), new RedisCommand("SMEMBERS", [keys.Stopped], 0)], cancellationToken).ConfigureAwait(false);
        var control = replies[0].ThrowIfError().AsDictionary();
        var paused = control.TryGetValue(ControlFields.Paused, out var p) && p.AsString() == "1";
        var pausedTypes = control.Where(kv => kv.Key.StartsWith(ControlFields.PausedTypePrefix, StringComparison.Ordinal) && kv.Value.AsString() == "1")
            .Select(kv => kv.Key[ControlFields.PausedTypePrefix.Length..]).ToHashSet(StringComparer.Ordinal);
        var stopped = replies[1].ThrowIfError().Items.Select(i => i.AsString()!).ToHashSet(StringComparer.Ordinal);
        var previous = _state;
        _state = new Snapshot(paused, pausedTypes, stopped);
        if (previous.Paused != paused)
        {
            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>Refreshes every second until cancelled (announcements trigger <see cref="RefreshAsync"/> sooner).</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(RefreshEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await RefreshAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (RedisException e)
                {
                    ControlLog.RefreshFailed(logger, e, keys.Queue);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>Returns at once when the queue is running; otherwise waits until it is resumed (or cancelled).</summary>
    public async Task WaitWhilePausedAsync(CancellationToken cancellationToken)
    {
        while (_state.Paused)
        {
            try
            {
                await _changed.Task.WaitAsync(RefreshEvery, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // look again: the poll may have seen a resume that no event announced
            }
        }
    }

    private sealed record Snapshot(bool Paused, HashSet<string> PausedTypes, HashSet<string> Stopped)
    {
        public static readonly Snapshot Empty = new(false, [], []);
    }
}

/// <summary>Field names of the queue's control hash.</summary>
internal static class ControlFields
{
    public const string Paused = "paused";
    public const string PausedTypePrefix = "paused_type:";
    public const string ControlEvent = "control";
    public const string DueEventPrefix = "due:";
    public const string TerminatedEvent = "terminated";
}

internal static partial class ControlLog
{
    [LoggerMessage(101, LogLevel.Warning, "Could not refresh the control state of queue {Queue}; using the last one")]
    public static partial void RefreshFailed(ILogger logger, Exception error, string queue);

    [LoggerMessage(102, LogLevel.Warning, "Promoting delayed messages of {Stream} failed; retrying")]
    public static partial void PromoteFailed(ILogger logger, Exception error, string stream);
}
