namespace Millrace;

/// <summary>The search for matching wall-clock times, field by field, ignoring time zones.</summary>
public sealed partial class CronExpression
{
    /// <summary>
    /// The first wall time at or after <paramref name="start"/> (a whole second) that matches every field, looking
    /// no further than the end of <paramref name="lastYear"/>. Skips whole months, days, hours and minutes that
    /// cannot match, so even a search that finds nothing takes at most a few thousand steps.
    /// </summary>
    private DateTime? FindWallTime(DateTime start, int lastYear)
    {
        int year = start.Year, month = start.Month, day = start.Day;
        int hour = start.Hour, minute = start.Minute, second = start.Second;
        while (year <= lastYear)
        {
            var nextMonth = _months.NextOrSame(month);
            if (nextMonth < 0)
            {
                (year, month, day, hour, minute, second) = (year + 1, 1, 1, 0, 0, 0);
                continue;
            }

            if (nextMonth != month)
            {
                (month, day, hour, minute, second) = (nextMonth, 1, 0, 0, 0);
            }

            var nextDay = NextMatchingDay(year, month, day);
            if (nextDay < 0)
            {
                (month, day, hour, minute, second) = (month + 1, 1, 0, 0, 0);
                continue;
            }

            if (nextDay != day)
            {
                (day, hour, minute, second) = (nextDay, 0, 0, 0);
            }

            var nextHour = _hours.NextOrSame(hour);
            if (nextHour < 0)
            {
                (day, hour, minute, second) = (day + 1, 0, 0, 0);
                continue;
            }

            if (nextHour != hour)
            {
                (hour, minute, second) = (nextHour, 0, 0);
            }

            var nextMinute = _minutes.NextOrSame(minute);
            if (nextMinute < 0)
            {
                (hour, minute, second) = (hour + 1, 0, 0);
                continue;
            }

            if (nextMinute != minute)
            {
                (minute, second) = (nextMinute, 0);
            }

            var nextSecond = _seconds.NextOrSame(second);
            if (nextSecond < 0)
            {
                (minute, second) = (minute + 1, 0);
                continue;
            }

            return new DateTime(year, month, day, hour, minute, nextSecond, DateTimeKind.Unspecified);
        }

        return null;
    }

    /// <summary>The first day of the month at or after <paramref name="day"/> that the day fields allow, or -1.</summary>
    private int NextMatchingDay(int year, int month, int day)
    {
        var daysInMonth = DateTime.DaysInMonth(year, month);
        if (day > daysInMonth)
        {
            return -1;
        }

        var dayOfWeek = (int)new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Unspecified).DayOfWeek;
        for (var d = day; d <= daysInMonth; d++, dayOfWeek = (dayOfWeek + 1) % 7)
        {
            var byMonth = _daysOfMonth.Contains(d) || (_daysOfMonth.IncludesLastDay && d == daysInMonth);
            var byWeek = _daysOfWeek.Contains(dayOfWeek);
            var matches = (_daysOfMonth.IsUnrestricted, _daysOfWeek.IsUnrestricted) switch
            {
                (true, true) => true,
                (true, false) => byWeek,
                (false, true) => byMonth,
                (false, false) => byMonth || byWeek,
            };
            if (matches)
            {
                return d;
            }
        }

        return -1;
    }

    /// <summary>
    /// False when only day-of-month restricts the day and none of its days exists in any allowed month
    /// (<c>0 0 30 2 *</c>): such an expression never matches, and the search can stop at once.
    /// </summary>
    private bool CanEverMatch()
    {
        if (_daysOfMonth.IsUnrestricted || !_daysOfWeek.IsUnrestricted || _daysOfMonth.IncludesLastDay)
        {
            return true;
        }

        for (var month = 1; month <= 12; month++)
        {
            var longest = month == 2 ? 29 : DateTime.DaysInMonth(2001, month);
            if (_months.Contains(month) && _daysOfMonth.NextOrSame(1) is var first && first >= 1 && first <= longest)
            {
                return true;
            }
        }

        return false;
    }
}
