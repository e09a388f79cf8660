using System.Diagnostics;

namespace Millrace.Bench;

/// <summary>
/// A count handlers bump from any thread; the one that reaches the target completes <see cref="WaitForAsync"/>
/// at once (a timer-based poll would only see it up to 4 ms later: .NET timers tick every ~4.3 ms on this kernel).
/// </summary>
internal sealed class ProgressCounter(long target, TimeSpan stallTimeout)
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    public void Increment()
    {
        if (Interlocked.Increment(ref _value) == target)
        {
            _reached.TrySetResult();
        }
    }

    /// <summary>Waits until the target is reached; fails when the count stops moving for the stall timeout.</summary>
    public async Task WaitForAsync(long expected, string what, CancellationToken cancellationToken)
    {
        var seen = Value;
        var since = Stopwatch.GetTimestamp();
        while (!_reached.Task.IsCompleted)
        {
            await Task.WhenAny(_reached.Task, Task.Delay(TimeSpan.FromSeconds(1), cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
            if (Value != seen)
            {
                (seen, since) = (Value, Stopwatch.GetTimestamp());
            }
            else if (!_reached.Task.IsCompleted && Stopwatch.GetElapsedTime(since) > stallTimeout)
            {
                throw new BenchException($"stuck: {seen:N0} of {expected:N0} {what}, no progress for {stallTimeout.TotalSeconds:F0} s.");
            }
        }
    }
}
