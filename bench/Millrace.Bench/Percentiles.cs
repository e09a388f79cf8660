using System.Diagnostics;

namespace Millrace.Bench;

/// <summary>Percentiles of timings taken with <see cref="Stopwatch.GetTimestamp"/>.</summary>
internal static class Percentiles
{
    /// <summary>
    /// The nearest-rank percentile (the smallest sample with at least <paramref name="percentile"/>%
    /// of the samples at or below it) of <paramref name="sorted"/>, which must be sorted ascending.
    /// </summary>
    public static long NearestRank(ReadOnlySpan<long> sorted, double percentile)
    {
        if (sorted.IsEmpty)
        {
            throw new ArgumentException("No samples.", nameof(sorted));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(percentile);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    /// <summary>Converts a <see cref="Stopwatch"/> tick count to microseconds.</summary>
    public static double TicksToMicroseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    /// <summary>Sorts <paramref name="ticks"/> in place and returns the given percentiles in microseconds.</summary>
    public static double[] Microseconds(long[] ticks, params double[] percentiles)
    {
        Array.Sort(ticks);
        return percentiles.Select(p => TicksToMicroseconds(NearestRank(ticks, p))).ToArray();
    }
}
