namespace Millrace;

/// <summary>
/// Bounds the messages this process holds (read but not yet acknowledged or given up). A fetcher
/// waits until some capacity is free and asks Redis for no more than its share of it, so a busy
/// process does not pull work it cannot start: what it has not read stays available to others.
/// A blocked read does not reserve capacity (an idle partition must not starve a busy one);
/// credits are taken for what actually arrives, so the count may briefly go below zero when
/// several partitions answer at once. That overshoot is at most one share per partition.
/// </summary>
internal sealed class InFlightCredits(int limit)
{
    private readonly Lock _gate = new();
    private int _available = limit;
    private TaskCompletionSource _freed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Limit { get; } = limit;

    public int Available
    {
        get
        {
            lock (_gate)
            {
                return _available;
            }
        }
    }

    /// <summary>Waits until at least one credit is free and returns how many are.</summary>
    public async Task<int> WaitForFreeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task freed;
            lock (_gate)
            {
                if (_available > 0)
                {
                    return _available;
                }

                freed = _freed.Task;
            }

            await freed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes credits for entries that arrived (may take the count below zero).</summary>
    public void Take(int count)
    {
        lock (_gate)
        {
            _available -= count;
        }
    }

    /// <summary>Takes what is free now, up to <paramref name="most"/>, without waiting.</summary>
    public int TakeAvailable(int most)
    {
        lock (_gate)
        {
            var taken = Math.Clamp(_available, 0, most);
            _available -= taken;
            return taken;
        }
    }

    public void Return(int count)
    {
        if (count <= 0)
        {
            return;
        }

        TaskCompletionSource? wake = null;
        lock (_gate)
        {
            var wasEmpty = _available <= 0;
            _available += count;
            if (wasEmpty && _available > 0)
            {
                wake = _freed;
                _freed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        wake?.TrySetResult();
    }
}
