namespace Millrace;

/// <summary>
/// Where a time zone's wall clock jumps: the instant a spring-forward gap ends and the wall time a fall-back
/// overlap ends. Both are found by bisection over whole seconds, so any zone <see cref="TimeZoneInfo"/> describes
/// works, not only the usual one-hour shifts.
/// </summary>
internal static class CronWallClock
{
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    /// <summary>
    /// For <paramref name="wall"/> inside a spring-forward gap (a whole-second wall time that does not exist):
    /// the transition instant, which is the first instant whose wall time is at or after it, in the zone's offset
    /// at that instant (for Europe/Berlin on 2026-03-29, 03:00+02:00).
    /// </summary>
    public static DateTimeOffset EndOfGap(TimeZoneInfo zone, DateTime wall)
    {
        // UTC offsets lie within ±14 h, so the instant 15 h "before" the wall time shows an earlier wall time and
        // the instant 15 h "after" it a later one; the wall clock only moves forward in between.
        var before = DateTime.SpecifyKind(wall, DateTimeKind.Utc).AddHours(-15);
        var after = DateTime.SpecifyKind(wall, DateTimeKind.Utc).AddHours(15);
        while (after - before > OneSecond)
        {
            var middle = before.AddSeconds(Math.Floor((after - before).TotalSeconds / 2));
            if (TimeZoneInfo.ConvertTimeFromUtc(middle, zone) >= wall)
            {
                after = middle;
            }
            else
            {
                before = middle;
            }
        }

        return TimeZoneInfo.ConvertTime(new DateTimeOffset(after, TimeSpan.Zero), zone);
    }

    /// <summary>
    /// For <paramref name="wall"/> inside a fall-back overlap (a whole-second wall time that occurs twice) of
    /// <paramref name="length"/>: the first wall time after it that occurs only once (for Europe/Berlin on
    /// 2026-10-25, 03:00). The overlap covers the wall times from the result minus <paramref name="length"/>.
    /// </summary>
    public static DateTime EndOfOverlap(TimeZoneInfo zone, DateTime wall, TimeSpan length)
    {
        var inside = wall;
        var outside = wall + length;
        while (outside - inside > OneSecond)
        {
            var middle = inside.AddSeconds(Math.Floor((outside - inside).TotalSeconds / 2));
            if (zone.IsAmbiguousTime(middle))
            {
                inside = middle;
            }
            else
            {
                outside = middle;
            }
        }

        return outside;
    }
}
