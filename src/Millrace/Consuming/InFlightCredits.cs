namespace Millrace;

/// <summary>
/// Bounds the messages this process holds (read but not yet acknowledged or given up). A read asks
/// for as many entries as there are credits, so a busy process never pulls work it cannot start:
/// what it has not read stays available to other consumers.
/// </summary>
internal sealed class InFlightCredits(int limit) : IDisposable
{
    private readonly SemaphoreSlim _credits = new(limit, limit);

    public int Limit { get; } = limit;

    public int Available => _credits.CurrentCount;

    /// <summary>Waits for at least one credit, then takes as many more as are free, up to <paramref name="most"/>.</summary>
    public async Task<int> TakeAsync(int most, CancellationToken cancellationToken)
    {
        await _credits.WaitAsync(cancellationToken).ConfigureAwait(false);
        var taken = 1;
        while (taken < most && _credits.Wait(0, CancellationToken.None))
        {
            taken++;
        }

        return taken;
    }

    /// <summary>Takes what is free now, up to <paramref name="most"/>, without waiting.</summary>
    public int TakeAvailable(int most)
    {
        var taken = 0;
        while (taken < most && _credits.Wait(0, CancellationToken.None))
        {
            taken++;
        }

        return taken;
    }

    public void Return(int count)
    {
        if (count > 0)
        {
            _credits.Release(count);
        }
    }

    public void Dispose() => _credits.Dispose();
}
