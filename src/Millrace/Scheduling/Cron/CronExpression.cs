namespace Millrace;

/// <summary>
/// A parsed cron schedule, and the calculation of its next occurrence in a time zone.
/// </summary>
/// <remarks>
/// <para>
/// Syntax. Five fields, <c>minute hour day-of-month month day-of-week</c>, or six with seconds first,
/// <c>second minute hour day-of-month month day-of-week</c>, separated by whitespace. Each field is <c>*</c>, a
/// number, a range <c>a-b</c>, a step <c>*/n</c>, <c>a-b/n</c> or <c>a/n</c> (from <c>a</c> to the field's end),
/// or a comma-separated list of these. Months accept JAN-DEC and days of week SUN-SAT (any case); day-of-week
/// accepts 0-7 where 0 and 7 are both Sunday (<c>*</c> and <c>a/n</c> there end at 6). Both day fields accept
/// <c>?</c> as a synonym of <c>*</c>; day-of-month also accepts <c>L</c>, the last day of the month, as an entry on
/// its own. Ranges do not wrap (<c>5-3</c> is an error). The macros <c>@yearly</c>/<c>@annually</c>,
/// <c>@monthly</c>, <c>@weekly</c>, <c>@daily</c>/<c>@midnight</c> and <c>@hourly</c> stand for the usual five
/// fields. Anything else fails with <see cref="CronParseException"/>.
/// </para>
/// <para>
/// Days. As in Vixie cron: when day-of-month and day-of-week are both restricted (neither is exactly <c>*</c> or
/// <c>?</c>), a day matches when either matches, so <c>0 0 13 * FRI</c> runs on every 13th and every Friday;
/// when one of them is <c>*</c> or <c>?</c>, only the other restricts the day.
/// </para>
/// <para>
/// Time zones and daylight saving. An expression describes wall-clock times in the zone passed to
/// <see cref="GetNextOccurrence(DateTimeOffset, TimeZoneInfo)"/>, following cron(8) and Cronos:
/// </para>
/// <list type="bullet">
/// <item><description>
/// Spring forward (a gap of wall times that never happen, such as 02:00-02:59 in Europe/Berlin on 2026-03-29):
/// an occurrence whose wall time falls in the gap runs once at the transition instant, the first instant after
/// the gap (03:00+02:00 there). Several matches in one gap, and a match at the transition wall time itself,
/// all become that one occurrence.
/// </description></item>
/// <item><description>
/// Fall back (an overlap of wall times that happen twice, such as 02:00-02:59 in Europe/Berlin on 2026-10-25):
/// an expression is an interval when its second, minute or hour field contains <c>*</c>, <c>-</c> or <c>/</c>
/// (for example <c>*/15 * * * *</c>, <c>30 * * * *</c> or <c>@hourly</c>). An interval occurs at its matching wall
/// times in both passes, first with the summer offset and then with the winter offset, so it keeps running as
/// real time elapses (every 15 real minutes). Any other expression is a fixed time (for example
/// <c>30 2 * * *</c> or <c>0,30 2 * * *</c>) and occurs only in the first pass; the repeated wall times are
/// skipped.
/// </description></item>
/// </list>
/// </remarks>
public sealed partial class CronExpression
{
    /// <summary>How far ahead <see cref="GetNextOccurrence"/> looks: long enough for every 29 February, even across 2100.</summary>
    private const int SearchHorizonYears = 8;

    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    private readonly string _expression;
    private readonly CronField _seconds;
    private readonly CronField _minutes;
    private readonly CronField _hours;
    private readonly CronField _daysOfMonth;
    private readonly CronField _months;
    private readonly CronField _daysOfWeek;

    private CronExpression(string expression, string[] fields)
    {
        _expression = expression;
        HasSeconds = fields.Length == 6;
        var at = HasSeconds ? 1 : 0;
        _seconds = HasSeconds ? CronFieldParser.Parse(expression, fields[0], CronFieldSpec.Second) : CronField.Only(0);
        _minutes = CronFieldParser.Parse(expression, fields[at], CronFieldSpec.Minute);
        _hours = CronFieldParser.Parse(expression, fields[at + 1], CronFieldSpec.Hour);
        _daysOfMonth = CronFieldParser.Parse(expression, fields[at + 2], CronFieldSpec.DayOfMonth);
        _months = CronFieldParser.Parse(expression, fields[at + 3], CronFieldSpec.Month);
        _daysOfWeek = CronFieldParser.Parse(expression, fields[at + 4], CronFieldSpec.DayOfWeek);
    }

    /// <summary>True when the expression has six fields, the first being seconds; false for five fields and macros.</summary>
    public bool HasSeconds { get; }

    /// <summary>True when the second, minute or hour field repeats, which decides how a fall-back overlap is treated.</summary>
    private bool IsInterval => _seconds.Repeats || _minutes.Repeats || _hours.Repeats;

    /// <summary>
    /// Parses a 5-field (<c>minute hour day-of-month month day-of-week</c>) or 6-field (seconds first) cron
    /// expression, or a macro such as <c>@daily</c>. See <see cref="CronExpression"/> for the syntax.
    /// </summary>
    /// <exception cref="CronParseException">
    /// The expression is null, empty, has the wrong number of fields, or a field is not valid; the message names the
    /// expression, the field, the offending text and the allowed values.
    /// </exception>
    public static CronExpression Parse(string expression)
    {
        const string Expected = "expected 5 fields (minute hour day-of-month month day-of-week), 6 fields (second minute hour day-of-month month day-of-week) or a macro such as @daily.";
        if (expression is null)
        {
            throw new CronParseException(null, Expected);
        }

        var fields = expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 0)
        {
            throw new CronParseException(expression, $"the expression is empty; {Expected}");
        }

        if (fields[0].StartsWith('@'))
        {
            if (fields.Length > 1)
            {
                throw new CronParseException(expression, $"a macro such as {fields[0]} stands alone, without other fields.");
            }

            var expanded = CronMacros.Expand(fields[0])
                ?? throw new CronParseException(expression, $"unknown macro \"{fields[0]}\"; supported: {CronMacros.Supported}.");
            return new CronExpression(expression, expanded.Split(' '));
        }

        if (fields.Length is not (5 or 6))
        {
            throw new CronParseException(expression, $"{Expected[..^1]}; found {fields.Length} field{(fields.Length == 1 ? "" : "s")}.");
        }

        return new CronExpression(expression, fields);
    }

    /// <summary>
    /// The first occurrence strictly after <paramref name="after"/>, matching wall-clock time in
    /// <paramref name="zone"/>, with the zone's offset at that instant; null when the expression can never match
    /// (such as <c>0 0 30 2 *</c>) or has no match within the next 8 years.
    /// </summary>
    /// <remarks>
    /// A wall time inside a spring-forward gap occurs once, at the transition instant. A wall time inside a
    /// fall-back overlap occurs in the first pass only, unless the expression is an interval (<c>*</c>, <c>-</c> or
    /// <c>/</c> in its second, minute or hour field), which occurs in both passes. See <see cref="CronExpression"/>.
    /// </remarks>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        if (!CanEverMatch() || after.UtcDateTime.Year > DateTime.MaxValue.Year - SearchHorizonYears - 1)
        {
            return null;
        }

        var local = TimeZoneInfo.ConvertTime(after, zone);
        var wall = new DateTime(local.DateTime.Ticks - (local.DateTime.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Unspecified);
        if (wall.Year > DateTime.MaxValue.Year - SearchHorizonYears)
        {
            return null;
        }

        var lastYear = wall.Year + SearchHorizonYears;
        if (!zone.IsAmbiguousTime(wall))
        {
            return ToOccurrence(FindWallTime(wall + OneSecond, lastYear), zone);
        }

        var offsets = zone.GetAmbiguousTimeOffsets(wall);
        var firstPassOffset = offsets.Max();
        var secondPassOffset = offsets.Min();
        var overlapEnd = CronWallClock.EndOfOverlap(zone, wall, firstPassOffset - secondPassOffset);
        var overlapStart = overlapEnd - (firstPassOffset - secondPassOffset);
        if (local.Offset == firstPassOffset)
        {
            var next = FindWallTime(wall + OneSecond, lastYear);
            if (next < overlapEnd)
            {
                return new DateTimeOffset(next.Value, firstPassOffset);
            }

            if (IsInterval && FindWallTime(overlapStart, lastYear) is { } repeated && repeated < overlapEnd)
            {
                return new DateTimeOffset(repeated, secondPassOffset);
            }

            return ToOccurrence(next, zone);
        }

        if (IsInterval && FindWallTime(wall + OneSecond, lastYear) is { } later && later < overlapEnd)
        {
            return new DateTimeOffset(later, secondPassOffset);
        }

        return ToOccurrence(FindWallTime(overlapEnd, lastYear), zone);
    }

    /// <summary>
    /// The occurrences strictly after <paramref name="after"/> and at or before <paramref name="until"/>, in order,
    /// each as <see cref="GetNextOccurrence"/> computes it.
    /// </summary>
    public IEnumerable<DateTimeOffset> GetOccurrences(DateTimeOffset after, DateTimeOffset until, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        return Occurrences(after, until, zone);
    }

    /// <summary>The expression exactly as it was given to <see cref="Parse"/>.</summary>
    public override string ToString() => _expression;

    private IEnumerable<DateTimeOffset> Occurrences(DateTimeOffset after, DateTimeOffset until, TimeZoneInfo zone)
    {
        var from = after;
        while (GetNextOccurrence(from, zone) is { } next && next <= until)
        {
            yield return next;
            from = next;
        }
    }

    /// <summary>The instant a matching wall time occurs: itself, the end of its gap, or its first pass.</summary>
    private static DateTimeOffset? ToOccurrence(DateTime? wall, TimeZoneInfo zone)
    {
        if (wall is not { } time)
        {
            return null;
        }

        if (zone.IsInvalidTime(time))
        {
            return CronWallClock.EndOfGap(zone, time);
        }

        return zone.IsAmbiguousTime(time)
            ? new DateTimeOffset(time, zone.GetAmbiguousTimeOffsets(time).Max())
            : new DateTimeOffset(time, zone.GetUtcOffset(time));
    }
}
