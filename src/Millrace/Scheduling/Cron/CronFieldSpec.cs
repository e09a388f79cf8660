namespace Millrace;

/// <summary>
/// What one position of a cron expression accepts: its name in error messages, its smallest and largest value,
/// where <c>*</c> ends, and the three-letter names it understands.
/// </summary>
internal sealed class CronFieldSpec
{
    public static readonly CronFieldSpec Second = new("second", 0, 59, 59, "0-59");

    public static readonly CronFieldSpec Minute = new("minute", 0, 59, 59, "0-59");

    public static readonly CronFieldSpec Hour = new("hour", 0, 23, 23, "0-23");

    public static readonly CronFieldSpec DayOfMonth = new("day-of-month", 1, 31, 31, "1-31 or L")
    {
        AcceptsQuestionMark = true,
        AcceptsLastDay = true,
    };

    public static readonly CronFieldSpec Month = new("month", 1, 12, 12, "1-12 or JAN-DEC")
    {
        Names = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
        FirstNamedValue = 1,
        NameKind = "a month name JAN-DEC",
    };

    /// <summary>Day of week: 0 and 7 are both Sunday; <c>*</c> and open steps such as <c>1/2</c> end at 6 (Saturday).</summary>
    public static readonly CronFieldSpec DayOfWeek = new("day-of-week", 0, 7, 6, "0-7 or SUN-SAT, where 0 and 7 are Sunday")
    {
        AcceptsQuestionMark = true,
        Names = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
        FirstNamedValue = 0,
        NameKind = "a day name SUN-SAT",
    };

    private CronFieldSpec(string name, int min, int max, int wildcardMax, string allowed)
    {
        Name = name;
        Min = min;
        Max = max;
        WildcardMax = wildcardMax;
        Allowed = allowed;
    }

    /// <summary>The field's name in messages: "minute", "day-of-week", ...</summary>
    public string Name { get; }

    public int Min { get; }

    public int Max { get; }

    /// <summary>Where <c>*</c> and an open step <c>a/n</c> end.</summary>
    public int WildcardMax { get; }

    /// <summary>What the field allows, as messages say it: "0-59", "1-12 or JAN-DEC".</summary>
    public string Allowed { get; }

    public bool AcceptsQuestionMark { get; private init; }

    /// <summary>True for day-of-month, which accepts <c>L</c> (the last day of the month).</summary>
    public bool AcceptsLastDay { get; private init; }

    public IReadOnlyList<string> Names { get; private init; } = [];

    public int FirstNamedValue { get; private init; }

    /// <summary>How messages describe the names, e.g. "a month name JAN-DEC"; null when the field has none.</summary>
    public string? NameKind { get; private init; }

    /// <summary>The value that <paramref name="name"/> stands for (case-insensitive), or -1.</summary>
    public int ValueOfName(string name)
    {
        for (var i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], name, StringComparison.OrdinalIgnoreCase))
            {
                return FirstNamedValue + i;
            }
        }

        return -1;
    }
}
