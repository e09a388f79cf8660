using System.Numerics;

namespace Millrace;

/// <summary>
/// One parsed field of a cron expression: the set of values it allows as a bitmask (bit <c>v</c> set when value
/// <c>v</c> matches), plus what the original text said about it.
/// </summary>
internal sealed class CronField
{
    public CronField(ulong values, bool isUnrestricted, bool repeats, bool includesLastDay)
    {
        Values = values;
        IsUnrestricted = isUnrestricted;
        Repeats = repeats;
        IncludesLastDay = includesLastDay;
    }

    /// <summary>Bit <c>v</c> is set when value <c>v</c> matches.</summary>
    public ulong Values { get; }

    /// <summary>The text was exactly <c>*</c> or <c>?</c>: the field places no restriction (matters for the day rule).</summary>
    public bool IsUnrestricted { get; }

    /// <summary>The text contains <c>*</c>, <c>-</c> or <c>/</c>: an interval rather than fixed values (matters for DST).</summary>
    public bool Repeats { get; }

    /// <summary>Day-of-month only: <c>L</c> was given, so the last day of each month matches.</summary>
    public bool IncludesLastDay { get; }

    /// <summary>A field that allows exactly <paramref name="value"/>, as the implied seconds of a 5-field expression.</summary>
    public static CronField Only(int value) => new(1UL << value, isUnrestricted: false, repeats: false, includesLastDay: false);

    public bool Contains(int value) => value is >= 0 and < 64 && ((Values >> value) & 1) != 0;

    /// <summary>The smallest allowed value that is at least <paramref name="value"/>, or -1 when there is none.</summary>
    public int NextOrSame(int value)
    {
        if (value >= 64)
        {
            return -1;
        }

        var from = Math.Max(value, 0);
        var rest = Values >> from;
        return rest == 0 ? -1 : from + BitOperations.TrailingZeroCount(rest);
    }
}
