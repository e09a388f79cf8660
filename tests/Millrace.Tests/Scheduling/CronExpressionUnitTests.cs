using System.Globalization;

namespace Millrace.Tests.Scheduling;

/// <summary>
/// CronExpression: parsing every supported form, rejecting everything else with a message that names the field,
/// and the next occurrence across calendar boundaries, time zones and daylight-saving transitions.
/// Weekdays used below: 2026-11-01, -08, -22 and -29 are Sundays; 2026-11-06, -13, -20, -27 and 2026-12-11 are Fridays.
/// </summary>
public sealed class CronExpressionUnitTests
{
    private static readonly TimeZoneInfo Utc = TimeZoneInfo.Utc;
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly TimeZoneInfo Kolkata = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");

    // ---- Syntax forms -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("* * * * *", "2026-05-10T10:00:30Z", "2026-05-10T10:01:00Z", "every minute: the next whole minute")]
    [InlineData("15 * * * *", "2026-05-10T10:20:00Z", "2026-05-10T11:15:00Z", "a single minute: :15 of the next hour")]
    [InlineData("05 * * * *", "2026-05-10T10:20:00Z", "2026-05-10T11:05:00Z", "a leading zero is the same number")]
    [InlineData("10-12 * * * *", "2026-05-10T10:11:00Z", "2026-05-10T10:12:00Z", "a range includes its end")]
    [InlineData("10-12 * * * *", "2026-05-10T10:12:00Z", "2026-05-10T11:10:00Z", "after a range's end: its start in the next hour")]
    [InlineData("5,20,40 * * * *", "2026-05-10T10:20:00Z", "2026-05-10T10:40:00Z", "a list: the next listed minute")]
    [InlineData("*/15 * * * *", "2026-05-10T10:16:00Z", "2026-05-10T10:30:00Z", "*/15: every quarter hour")]
    [InlineData("10-40/15 * * * *", "2026-05-10T10:26:00Z", "2026-05-10T10:40:00Z", "10-40/15 is 10, 25, 40")]
    [InlineData("10-40/15 * * * *", "2026-05-10T10:41:00Z", "2026-05-10T11:10:00Z", "10-40/15 has nothing after 40")]
    [InlineData("5/20 * * * *", "2026-05-10T10:06:00Z", "2026-05-10T10:25:00Z", "5/20 continues past its start: 5, 25, 45")]
    [InlineData("5/20 * * * *", "2026-05-10T10:46:00Z", "2026-05-10T11:05:00Z", "5/20 has nothing after 45")]
    [InlineData("50/20 * * * *", "2026-05-10T10:51:00Z", "2026-05-10T11:50:00Z", "50/20 is only 50 (50 to 59 by 20)")]
    [InlineData("0 9-17/4 * * *", "2026-05-10T13:30:00Z", "2026-05-10T17:00:00Z", "9-17/4 hours are 9, 13, 17")]
    [InlineData("0,10-12,*/30 * * * *", "2026-05-10T10:12:00Z", "2026-05-10T10:30:00Z", "a list mixing a value, a range and a step")]
    [InlineData("0 0 ? * MON", "2026-11-18T12:00:00Z", "2026-11-23T00:00:00Z", "? in day-of-month is *")]
    [InlineData("0 12 * * ?", "2026-11-18T12:00:00Z", "2026-11-19T12:00:00Z", "? in day-of-week is *")]
    [InlineData("0   0\t*  * *", "2026-11-18T12:00:00Z", "2026-11-19T00:00:00Z", "fields separated by several spaces and tabs")]
    public void GetNextOccurrence_GivenEachSyntaxForm_MatchesTheValuesItDescribes(string expression, string after, string expected, string because)
    {
        ExpectNext(expression, after, expected, Utc, because);
    }

    [Theory]
    [InlineData("0 0 1 JUN *", "2026-01-10T00:00:00Z", "2026-06-01T00:00:00Z", "JUN is month 6")]
    [InlineData("0 0 1 jun-Aug *", "2026-08-01T00:00:00Z", "2027-06-01T00:00:00Z", "a range of month names, any case, after its last month")]
    [InlineData("0 0 1 Feb,aUg *", "2026-03-01T00:00:00Z", "2026-08-01T00:00:00Z", "a list of month names in mixed case")]
    [InlineData("0 0 * * MON-FRI", "2026-11-21T12:00:00Z", "2026-11-23T00:00:00Z", "MON-FRI skips the weekend")]
    [InlineData("0 0 * * sat,SUN", "2026-11-18T12:00:00Z", "2026-11-21T00:00:00Z", "a list of day names in mixed case")]
    [InlineData("0 0 * * MON/2", "2026-11-23T00:00:00Z", "2026-11-25T00:00:00Z", "a day name as the start of a step: Monday, Wednesday, Friday")]
    public void GetNextOccurrence_GivenMonthAndDayNames_MatchesTheirNumbers(string expression, string after, string expected, string because)
    {
        ExpectNext(expression, after, expected, Utc, because);
    }

    [Theory]
    [InlineData("0 0 * * 0", "2026-11-18T12:00:00Z", "2026-11-22T00:00:00Z", "0 is Sunday")]
    [InlineData("0 0 * * 7", "2026-11-18T12:00:00Z", "2026-11-22T00:00:00Z", "7 is Sunday too")]
    [InlineData("0 0 * * SUN", "2026-11-18T12:00:00Z", "2026-11-22T00:00:00Z", "SUN is Sunday")]
    [InlineData("0 0 * * 5-7", "2026-11-22T00:00:00Z", "2026-11-27T00:00:00Z", "5-7 is Friday to Sunday: after Sunday comes Friday")]
    [InlineData("0 0 * * 5-7", "2026-11-28T12:00:00Z", "2026-11-29T00:00:00Z", "5-7 ends on Sunday (7)")]
    [InlineData("0 0 * * 1/2", "2026-11-20T12:00:00Z", "2026-11-23T00:00:00Z", "1/2 is Monday, Wednesday, Friday: it stops at 6, so not Sunday")]
    [InlineData("0 0 * * */2", "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z", "*/2 is Sunday, Tuesday, Thursday, Saturday")]
    public void GetNextOccurrence_GivenDayOfWeekNumbers_TreatsZeroAndSevenAsSunday(string expression, string after, string expected, string because)
    {
        ExpectNext(expression, after, expected, Utc, because);
    }

    [Theory]
    [InlineData("0 0 L * *", "2026-02-10T00:00:00Z", "2026-02-28T00:00:00Z", "L in a common-year February is the 28th")]
    [InlineData("0 0 L * *", "2028-02-10T00:00:00Z", "2028-02-29T00:00:00Z", "L in a leap-year February is the 29th")]
    [InlineData("0 0 15,L * *", "2026-04-16T00:00:00Z", "2026-04-30T00:00:00Z", "L in a list: the 30th of April")]
    public void GetNextOccurrence_GivenLastDayOfMonth_MatchesTheMonthsLastDay(string expression, string after, string expected, string because)
    {
        ExpectNext(expression, after, expected, Utc, because);
    }

    [Theory]
    [InlineData("*/10 * * * * *", "2026-05-10T10:00:05Z", "2026-05-10T10:00:10Z", "every 10 seconds")]
    [InlineData("30 0 12 * * *", "2026-05-10T12:00:30Z", "2026-05-11T12:00:30Z", "seconds come first: 12:00:30 daily")]
    [InlineData("0 * * * * *", "2026-05-10T10:00:30Z", "2026-05-10T10:01:00Z", "second 0 of every minute")]
    [InlineData("* * * * * *", "2026-05-10T10:00:10.5Z", "2026-05-10T10:00:11Z", "every second: the next whole second after a fraction")]
    [InlineData("59 59 23 31 12 *", "2026-06-01T00:00:00Z", "2026-12-31T23:59:59Z", "the last second of the year")]
    public void GetNextOccurrence_GivenSixFields_ReadsTheFirstAsSeconds(string expression, string after, string expected, string because)
    {
        ExpectNext(expression, after, expected, Utc, because);
    }

    [Theory]
    [InlineData("@yearly", "2026-05-10T10:00:00Z", "2027-01-01T00:00:00Z")]
    [InlineData("@annually", "2026-05-10T10:00:00Z", "2027-01-01T00:00:00Z")]
    [InlineData("@monthly", "2026-05-10T10:00:00Z", "2026-06-01T00:00:00Z")]
    [InlineData("@weekly", "2026-11-18T12:00:00Z", "2026-11-22T00:00:00Z")]
    [InlineData("@weekly", "2026-11-22T00:00:00Z", "2026-11-29T00:00:00Z")]
    [InlineData("@daily", "2026-05-10T10:00:00Z", "2026-05-11T00:00:00Z")]
    [InlineData("@midnight", "2026-05-10T10:00:00Z", "2026-05-11T00:00:00Z")]
    [InlineData("@hourly", "2026-05-10T10:00:00Z", "2026-05-10T11:00:00Z")]
    [InlineData("@DAILY", "2026-05-10T10:00:00Z", "2026-05-11T00:00:00Z")]
    public void GetNextOccurrence_GivenMacro_BehavesAsItsFields(string expression, string after, string expected)
    {
        ExpectNext(expression, after, expected, Utc, $"{expression} as its standard five fields");
    }

    // ---- Day-of-month versus day-of-week -------------------------------------------------------------------

    [Theory]
    [InlineData("0 0 13 * 5", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z", "both restricted: a Friday that is not the 13th matches")]
    [InlineData("0 0 13 * 5", "2026-12-11T00:00:00Z", "2026-12-13T00:00:00Z", "both restricted: a 13th that is a Sunday matches")]
    [InlineData("0 0 1-7 * 1", "2026-11-08T00:00:00Z", "2026-11-09T00:00:00Z", "both restricted: any Monday, not only the first of the month")]
    [InlineData("0 0 */2 * 1", "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "a step counts as restricted: Monday the 2nd matches by weekday")]
    public void GetNextOccurrence_GivenBothDayFieldsRestricted_MatchesEither(string expression, string after, string expected, string because)
    {
        ExpectNext(expression, after, expected, Utc, because);
    }

    [Theory]
    [InlineData("0 0 13 * *", "2026-11-01T00:00:00Z", "2026-11-13T00:00:00Z", "only day-of-month restricts: the 13th")]
    [InlineData("0 0 13 * ?", "2026-11-01T00:00:00Z", "2026-11-13T00:00:00Z", "? in day-of-week leaves day-of-month in charge")]
    [InlineData("0 0 * * 5", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z", "only day-of-week restricts: Friday")]
    [InlineData("0 0 ? * 5", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z", "? in day-of-month leaves day-of-week in charge")]
    [InlineData("0 0 13 * *", "2026-11-13T00:00:00Z", "2026-12-13T00:00:00Z", "only day-of-month restricts: Fridays do not match")]
    public void GetNextOccurrence_GivenOneDayFieldUnrestricted_AppliesTheOther(string expression, string after, string expected, string because)
    {
        ExpectNext(expression, after, expected, Utc, because);
    }

    // ---- Calendar boundaries --------------------------------------------------------------------------------

    [Theory]
    [InlineData("* * * * *", "2026-05-10T10:59:30Z", "2026-05-10T11:00:00Z", "minute into the next hour")]
    [InlineData("0 * * * *", "2026-05-10T23:30:00Z", "2026-05-11T00:00:00Z", "hour into the next day")]
    [InlineData("0 0 * * *", "2026-04-30T12:00:00Z", "2026-05-01T00:00:00Z", "day into the next month")]
    [InlineData("0 0 1 * *", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z", "into a shorter month")]
    [InlineData("0 0 1 * *", "2026-12-15T00:00:00Z", "2027-01-01T00:00:00Z", "month into the next year")]
    [InlineData("59 23 31 12 *", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z", "exactly at an occurrence: the next one, a year later")]
    [InlineData("0 0 29 2 *", "2025-03-01T00:00:00Z", "2028-02-29T00:00:00Z", "29 February: the next leap year")]
    [InlineData("0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z", "29 February: 2100 is not a leap year")]
    [InlineData("0 0 31 * *", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "the 31st skips February")]
    [InlineData("0 0 31 * *", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "the 31st skips April")]
    [InlineData("0 0 31 * *", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z", "the 31st in consecutive months")]
    [InlineData("0 0 30 * *", "2026-01-30T00:00:00Z", "2026-03-30T00:00:00Z", "the 30th skips February")]
    [InlineData("0 0 1 1 *", "2026-06-15T00:00:00Z", "2027-01-01T00:00:00Z", "new year")]
    public void GetNextOccurrence_GivenCalendarBoundary_CrossesItToTheNextMatch(string expression, string after, string expected, string because)
    {
        ExpectNext(expression, after, expected, Utc, because);
    }

    [Theory]
    [InlineData("0 0 30 2 *")]
    [InlineData("0 0 31 2 *")]
    [InlineData("0 0 31 4,6,9,11 *")]
    [InlineData("0 0 0 30 FEB ?")]
    public void GetNextOccurrence_GivenDayThatNeverExists_ReturnsNull(string expression)
    {
        // Given
        var cron = CronExpression.Parse(expression);

        // When
        var next = cron.GetNextOccurrence(At("2026-01-01T00:00:00Z"), Berlin);

        // Then
        Assert.True(next is null, $"Expected no occurrence for \"{expression}\", but got {Show(next)}.");
    }

    // ---- Time zones without daylight saving ---------------------------------------------------------------

    [Fact]
    public void GetNextOccurrence_GivenUtc_ReturnsZeroOffsetWhateverTheOffsetOfAfter()
    {
        ExpectNext("0 11 * * *", "2026-05-10T12:00:00+02:00", "2026-05-10T11:00:00+00:00", Utc, "10:00Z given as 12:00+02:00, then 11:00 UTC");
    }

    [Theory]
    [InlineData("0 9 * * *", "2026-06-01T00:00:00Z", "2026-06-01T09:00:00+05:30", "09:00 on Kolkata's clock")]
    [InlineData("0 0 * * *", "2026-06-01T20:00:00Z", "2026-06-03T00:00:00+05:30", "20:00Z is already 01:30 on 2 June in Kolkata")]
    [InlineData("30 * * * *", "2026-06-01T00:00:00Z", "2026-06-01T06:30:00+05:30", "Kolkata's :30 is UTC's :00")]
    public void GetNextOccurrence_GivenHalfHourOffsetZone_MatchesItsWallClock(string expression, string after, string expected, string because)
    {
        ExpectNext(expression, after, expected, Kolkata, because);
    }

    // ---- Daylight saving: spring forward (gap) -------------------------------------------------------------

    [Theory]
    [InlineData("30 2 * * *", "2026-03-29T00:00:00+01:00", "2026-03-29T03:00:00+02:00", "Berlin: 02:30 does not exist, so the transition instant")]
    [InlineData("0 2 * * *", "2026-03-29T00:00:00+01:00", "2026-03-29T03:00:00+02:00", "Berlin: 02:00 does not exist, so the transition instant")]
    [InlineData("30 2 * * *", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "Berlin: the next day 02:30 exists again")]
    [InlineData("0 3 * * *", "2026-03-29T00:00:00+01:00", "2026-03-29T03:00:00+02:00", "Berlin: 03:00 exists, in summer time")]
    [InlineData("0 0 2 * * *", "2026-03-29T00:00:00+01:00", "2026-03-29T03:00:00+02:00", "Berlin, six fields: 02:00:00 moves to the transition instant")]
    [InlineData("30 2 * * *", "2026-03-08T00:00:00-05:00", "2026-03-08T03:00:00-04:00", "New York: 02:30 does not exist, so the transition instant")]
    [InlineData("30 2 * * *", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "New York: the next day 02:30 exists again")]
    public void GetNextOccurrence_GivenFixedTimeInSpringGap_RunsOnceAtTheTransition(string expression, string after, string expected, string because)
    {
        ExpectNext(expression, after, expected, ZoneOf(expected), because);
    }

    [Fact]
    public void GetNextOccurrence_GivenTwoFixedTimesInOneGap_RunsThemOnceAtTheTransition()
    {
        ExpectSequence("0 2,3 * * *", Berlin, "2026-03-29T00:00:00+01:00",
            "2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00");
    }

    [Fact]
    public void GetNextOccurrence_GivenQuarterHoursOverBerlinSpringGap_RunsOnceAtTheTransitionThenResumes()
    {
        ExpectSequence("*/15 * * * *", Berlin, "2026-03-29T01:40:00+01:00",
            "2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00");
    }

    [Fact]
    public void GetNextOccurrence_GivenHalfPastEveryHourOverBerlinSpringGap_MovesTheMissingOneToTheTransition()
    {
        ExpectSequence("30 * * * *", Berlin, "2026-03-29T01:00:00+01:00",
            "2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00");
    }

    [Fact]
    public void GetNextOccurrence_GivenQuarterHoursOverNewYorkSpringGap_RunsOnceAtTheTransitionThenResumes()
    {
        ExpectSequence("*/15 * * * *", NewYork, "2026-03-08T01:40:00-05:00",
            "2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00");
    }

    // ---- Daylight saving: fall back (overlap) --------------------------------------------------------------

    [Fact]
    public void GetNextOccurrence_GivenFixedTimeInBerlinOverlap_RunsOnlyInTheFirstPass()
    {
        ExpectSequence("30 2 * * *", Berlin, "2026-10-25T00:00:00+02:00",
            "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00");
    }

    [Fact]
    public void GetNextOccurrence_GivenFixedTimeInNewYorkOverlap_RunsOnlyInTheFirstPass()
    {
        ExpectSequence("30 1 * * *", NewYork, "2026-11-01T00:00:00-04:00",
            "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00");
    }

    [Fact]
    public void GetNextOccurrence_GivenFixedTimesListInOverlap_SkipsAllOfTheSecondPass()
    {
        ExpectSequence("15,45 2 * * *", Berlin, "2026-10-25T02:20:00+02:00",
            "2026-10-25T02:45:00+02:00", "2026-10-26T02:15:00+01:00");
    }

    [Fact]
    public void GetNextOccurrence_GivenFixedTimeAndStartInTheSecondPass_WaitsForTheNextDay()
    {
        ExpectNext("30 2 * * *", "2026-10-25T02:10:00+01:00", "2026-10-26T02:30:00+01:00", Berlin,
            "02:30 already ran in the first pass (00:30Z)");
    }

    [Fact]
    public void GetNextOccurrence_GivenFixedTimeAfterTheOverlap_RunsInWinterTime()
    {
        ExpectNext("0 3 * * *", "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00", Berlin,
            "03:00 occurs once, after the overlap");
    }

    [Fact]
    public void GetNextOccurrence_GivenQuarterHoursOverBerlinOverlap_RunsInBothPassesEveryFifteenRealMinutes()
    {
        ExpectSequence("*/15 * * * *", Berlin, "2026-10-25T01:50:00+02:00",
            "2026-10-25T02:00:00+02:00", "2026-10-25T02:15:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:45:00+02:00",
            "2026-10-25T02:00:00+01:00", "2026-10-25T02:15:00+01:00", "2026-10-25T02:30:00+01:00", "2026-10-25T02:45:00+01:00",
            "2026-10-25T03:00:00+01:00");
    }

    [Fact]
    public void GetNextOccurrence_GivenTwentyMinuteStepsOverNewYorkOverlap_RunsInBothPasses()
    {
        ExpectSequence("*/20 * * * *", NewYork, "2026-11-01T00:50:00-04:00",
            "2026-11-01T01:00:00-04:00", "2026-11-01T01:20:00-04:00", "2026-11-01T01:40:00-04:00",
            "2026-11-01T01:00:00-05:00", "2026-11-01T01:20:00-05:00", "2026-11-01T01:40:00-05:00",
            "2026-11-01T02:00:00-05:00");
    }

    [Fact]
    public void GetNextOccurrence_GivenHalfPastEveryHourOverBerlinOverlap_RunsEveryRealHour()
    {
        ExpectSequence("30 * * * *", Berlin, "2026-10-25T01:40:00+02:00",
            "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00");
    }

    [Fact]
    public void GetNextOccurrence_GivenHourRangeOverBerlinOverlap_CountsAsIntervalAndRunsInBothPasses()
    {
        ExpectSequence("0 2-3 * * *", Berlin, "2026-10-25T00:00:00+02:00",
            "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00");
    }

    [Fact]
    public void GetNextOccurrence_GivenIntervalAndStartInTheSecondPass_ContinuesInTheSecondPass()
    {
        ExpectNext("*/15 * * * *", "2026-10-25T02:10:00+01:00", "2026-10-25T02:15:00+01:00", Berlin,
            "the next quarter hour of the repeated hour, in winter time");
    }

    [Fact]
    public void GetNextOccurrence_GivenDailyMidnightOverNewYorkFallBack_KeepsMidnightInTheNewOffset()
    {
        ExpectSequence("@daily", NewYork, "2026-10-31T12:00:00-04:00",
            "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00");
    }

    [Fact]
    public void GetOccurrences_GivenHourlyOverBerlinFallBack_ReturnsOneHourApartInRealTime()
    {
        // Given
        var cron = CronExpression.Parse("0 * * * *");

        // When
        var occurrences = cron.GetOccurrences(At("2026-10-25T00:30:00+02:00"), At("2026-10-25T04:00:00+01:00"), Berlin).ToList();

        // Then
        string[] expected = ["2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00", "2026-10-25T04:00:00+01:00"];
        Assert.True(expected.SequenceEqual(occurrences.Select(Show)),
            $"Expected hourly runs through the repeated hour up to 'until' inclusive: {string.Join(", ", expected)}; got {string.Join(", ", occurrences.Select(Show))}.");
    }

    [Fact]
    public void GetOccurrences_GivenHourlyOverBerlinSpringForward_SkipsTheMissingHourWithoutRunningTwice()
    {
        // Given
        var cron = CronExpression.Parse("0 * * * *");

        // When
        var occurrences = cron.GetOccurrences(At("2026-03-29T00:30:00+01:00"), At("2026-03-29T04:00:00+02:00"), Berlin).ToList();

        // Then
        string[] expected = ["2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"];
        Assert.True(expected.SequenceEqual(occurrences.Select(Show)),
            $"Expected 02:00 to merge into the transition at 03:00+02:00: {string.Join(", ", expected)}; got {string.Join(", ", occurrences.Select(Show))}.");
    }

    // ---- Other members --------------------------------------------------------------------------------------

    [Theory]
    [InlineData("  */5  *  * * *")]
    [InlineData("@Weekly")]
    [InlineData("0 0 12 ? JAN MON-FRI")]
    public void ToString_GivenParsedExpression_ReturnsTheOriginalText(string expression)
    {
        // Given
        var cron = CronExpression.Parse(expression);

        // When
        var text = cron.ToString();

        // Then
        Assert.True(text == expression, $"Expected ToString to return \"{expression}\" unchanged, got \"{text}\".");
    }

    [Theory]
    [InlineData("0 * * * * *", true)]
    [InlineData("* * * * *", false)]
    [InlineData("@hourly", false)]
    public void HasSeconds_GivenExpression_IsTrueOnlyForSixFields(string expression, bool expected)
    {
        // Given
        var cron = CronExpression.Parse(expression);

        // When
        var hasSeconds = cron.HasSeconds;

        // Then
        Assert.True(hasSeconds == expected, $"Expected HasSeconds of \"{expression}\" to be {expected}.");
    }

    [Fact]
    public void GetNextOccurrence_GivenNoZone_ThrowsArgumentNullException()
    {
        // Given
        var cron = CronExpression.Parse("* * * * *");

        // When
        var thrown = Record.Exception(() => cron.GetNextOccurrence(At("2026-01-01T00:00:00Z"), null!));

        // Then
        Assert.True(thrown is ArgumentNullException, $"Expected ArgumentNullException for a null zone, got {thrown?.GetType().Name ?? "nothing"}.");
    }

    // ---- Invalid expressions -------------------------------------------------------------------------------

    [Theory]
    [InlineData(null, "Cron expression is null")]
    [InlineData("", "the expression is empty")]
    [InlineData("   ", "the expression is empty")]
    [InlineData("* * * *", "found 4 fields")]
    [InlineData("* * * * * * *", "found 7 fields")]
    [InlineData("61 * * * *", "Cron \"61 * * * *\": minute value 61 is outside 0-59.")]
    [InlineData("* 24 * * *", "hour value 24 is outside 0-23")]
    [InlineData("* * 0 * *", "day-of-month value 0 is outside 1-31")]
    [InlineData("* * 32 * *", "day-of-month value 32 is outside 1-31")]
    [InlineData("* * * 13 *", "month value 13 is outside 1-12")]
    [InlineData("* * * 0 *", "month value 0 is outside 1-12")]
    [InlineData("* * * * 8", "day-of-week value 8 is outside 0-7")]
    [InlineData("60 * * * * *", "second value 60 is outside 0-59")]
    [InlineData("99999999999 * * * *", "minute value 99999999999 is outside 0-59")]
    [InlineData("*/0 * * * *", "minute step 0 is outside 1-59")]
    [InlineData("*/60 * * * *", "minute step 60 is outside 1-59")]
    [InlineData("* * * * 1-5/0", "day-of-week step 0 is outside 1-7")]
    [InlineData("5-3 * * * *", "minute range 5-3 is reversed")]
    [InlineData("* * * DEC-JAN *", "month range DEC-JAN is reversed")]
    [InlineData("* 22-2 * * *", "hour range 22-2 is reversed")]
    [InlineData("a * * * *", "minute value \"a\" is not a number (allowed 0-59)")]
    [InlineData("1.5 * * * *", "minute value \"1.5\" is not a number")]
    [InlineData("1,,2 * * * *", "minute has an empty entry in \"1,,2\"")]
    [InlineData("1, * * * *", "minute has an empty entry in \"1,\"")]
    [InlineData("-5 * * * *", "minute entry \"-5\" is missing a value")]
    [InlineData("5- * * * *", "minute entry \"5-\" is missing a value")]
    [InlineData("*/ * * * *", "minute step \"\" in \"*/\" is not a number")]
    [InlineData("*/x * * * *", "minute step \"x\" in \"*/x\" is not a number")]
    [InlineData("*/5/2 * * * *", "minute entry \"*/5/2\" has more than one '/'")]
    [InlineData("1-2-3 * * * *", "minute range \"1-2-3\" has more than one '-'")]
    [InlineData("*-5 * * * *", "minute value \"*\" is not a number")]
    [InlineData("* * * JANUARY *", "month value \"JANUARY\" is not a number or a month name JAN-DEC")]
    [InlineData("* * * * FUN", "day-of-week value \"FUN\" is not a number or a day name SUN-SAT")]
    [InlineData("* * * MON *", "month value \"MON\" is not a number or a month name")]
    [InlineData("* * * * JAN", "day-of-week value \"JAN\" is not a number or a day name")]
    [InlineData("JAN * * * *", "minute value \"JAN\" is not a number (allowed 0-59)")]
    [InlineData("? * * * *", "minute does not accept \"?\"")]
    [InlineData("* * * ? *", "month does not accept \"?\"")]
    [InlineData("* L * * *", "hour value \"L\" is not a number")]
    [InlineData("* * L/2 * *", "day-of-month L (the last day of the month) stands alone")]
    [InlineData("* * L-3 * *", "day-of-month L (the last day of the month) stands alone")]
    [InlineData("* * 15W * *", "day-of-month value \"15W\" is not a number")]
    [InlineData("* * * * MON#2", "day-of-week value \"MON#2\" is not a number")]
    [InlineData("* * * * 5L", "day-of-week value \"5L\" is not a number")]
    [InlineData("\uff11 * * * *", "minute value \"\uff11\" is not a number")]
    [InlineData("@reboot", "unknown macro \"@reboot\"")]
    [InlineData("@daily *", "a macro such as @daily stands alone")]
    public void Parse_GivenInvalidExpression_ThrowsNamingTheProblem(string? expression, string expectedFragment)
    {
        // When
        var thrown = Record.Exception(() => CronExpression.Parse(expression!));

        // Then
        var parseError = Assert.IsType<CronParseException>(thrown);
        Assert.True(parseError.Message.Contains(expectedFragment, StringComparison.Ordinal),
            $"Expected the message for \"{expression}\" to contain \"{expectedFragment}\", got \"{parseError.Message}\".");
    }

    [Theory]
    [InlineData("61 * * * *")]
    [InlineData("* * * * * * *")]
    [InlineData("@reboot")]
    public void Parse_GivenInvalidExpression_QuotesTheExpressionInTheMessage(string expression)
    {
        // When
        var thrown = Record.Exception(() => CronExpression.Parse(expression));

        // Then
        Assert.True(thrown is not null && thrown.Message.StartsWith($"Cron \"{expression}\": ", StringComparison.Ordinal),
            $"Expected the message to start with the quoted expression, got \"{thrown?.Message}\".");
    }

    [Fact]
    public void Parse_GivenInvalidExpression_ThrowsAFormatException()
    {
        // When
        var thrown = Record.Exception(() => CronExpression.Parse("61 * * * *"));

        // Then
        Assert.True(thrown is FormatException, $"Expected CronParseException to be a FormatException, got {thrown?.GetType().Name ?? "nothing"}.");
    }

    // ---- Randomized comparison with a brute-force reference ------------------------------------------------

    [Fact]
    public void GetNextOccurrence_GivenRandomExpressions_AgreesWithBruteForceMinuteWalk()
    {
        // Given: seeded, so a failure reproduces; windows stay clear of DST transitions
        const int Seed = 20261122;
        var random = new Random(Seed);
        var window = TimeSpan.FromDays(40);
        var compared = 0;
        for (var i = 0; i < 200; i++)
        {
            var schedule = RandomSchedule.Create(random, withSeconds: i % 3 == 0);
            var zone = i % 2 == 0 ? Utc : Berlin;
            var after = RandomStart(random, zone);

            // When
            var fast = CronExpression.Parse(schedule.Text).GetNextOccurrence(after, zone);
            var slow = schedule.BruteForceNext(after, zone, window);

            // Then
            if (slow is { } expected)
            {
                compared++;
                Assert.True(fast == expected && fast.Value.Offset == expected.Offset,
                    $"Case {i} (seed {Seed}): expected \"{schedule.Text}\" after {Show(after)} in {zone.Id} to occur at {Show(expected)} as brute force finds, got {Show(fast)}.");
            }
            else
            {
                Assert.True(fast is null || fast > after + window,
                    $"Case {i} (seed {Seed}): brute force finds no occurrence of \"{schedule.Text}\" within {window.TotalDays} days after {Show(after)} in {zone.Id}, but got {Show(fast)}.");
            }
        }

        Assert.True(compared >= 100, $"Expected at least 100 of the 200 random cases to have an occurrence inside the window to compare, got {compared}.");
    }

    /// <summary>A start in 2026 whose 40-day window holds no DST transition of <paramref name="zone"/>.</summary>
    private static DateTimeOffset RandomStart(Random random, TimeZoneInfo zone)
    {
        var (from, days) = zone == Utc
            ? (new DateTime(2026, 1, 1), 365)
            : random.Next(2) == 0 ? (new DateTime(2026, 4, 1), 160) : (new DateTime(2026, 11, 1), 60);
        var wall = from.AddDays(random.Next(days)).AddMinutes(random.Next(24 * 60)).AddSeconds(random.Next(60));
        return new DateTimeOffset(wall, zone.GetUtcOffset(wall));
    }

    /// <summary>
    /// A random expression and, built alongside it without the parser, the set of values each field allows;
    /// <see cref="BruteForceNext"/> walks wall-clock minutes and tests them against those sets.
    /// </summary>
    private sealed class RandomSchedule
    {
        private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
        private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

        private readonly HashSet<int>? _seconds;
        private readonly HashSet<int> _minutes;
        private readonly HashSet<int> _hours;
        private readonly HashSet<int> _daysOfMonth;
        private readonly HashSet<int> _months;
        private readonly HashSet<int> _daysOfWeek;
        private readonly bool _anyDayOfMonth;
        private readonly bool _anyDayOfWeek;

        private RandomSchedule(string text, HashSet<int>? seconds, HashSet<int> minutes, HashSet<int> hours,
            (HashSet<int> Values, bool Any) daysOfMonth, HashSet<int> months, (HashSet<int> Values, bool Any) daysOfWeek)
        {
            Text = text;
            _seconds = seconds;
            _minutes = minutes;
            _hours = hours;
            (_daysOfMonth, _anyDayOfMonth) = daysOfMonth;
            _months = months;
            (_daysOfWeek, _anyDayOfWeek) = daysOfWeek;
        }

        public string Text { get; }

        public static RandomSchedule Create(Random random, bool withSeconds)
        {
            var parts = new List<string>();
            HashSet<int>? seconds = null;
            if (withSeconds)
            {
                (var secondText, seconds, _) = Field(random, 0, 59, 59, null, 0, often: true);
                parts.Add(secondText);
            }

            var (minuteText, minutes, _) = Field(random, 0, 59, 59, null, 0, often: true);
            var (hourText, hours, _) = Field(random, 0, 23, 23, null, 0, often: true);
            var (dayText, days, anyDay) = Field(random, 1, 31, 31, null, 0, often: false, questionMark: true);
            var (monthText, months, _) = Field(random, 1, 12, 12, MonthNames, 1, often: true);
            var (weekText, weekdays, anyWeekday) = Field(random, 0, 7, 6, DayNames, 0, often: false, questionMark: true);
            if (weekdays.Remove(7))
            {
                weekdays.Add(0);
            }

            parts.AddRange([minuteText, hourText, dayText, monthText, weekText]);
            return new RandomSchedule(string.Join(' ', parts), seconds, minutes, hours, (days, anyDay), months, (weekdays, anyWeekday));
        }

        /// <summary>The first matching wall time strictly after <paramref name="after"/>, walking minute by minute.</summary>
        public DateTimeOffset? BruteForceNext(DateTimeOffset after, TimeZoneInfo zone, TimeSpan window)
        {
            var start = TimeZoneInfo.ConvertTime(after, zone).DateTime;
            var minute = new DateTime(start.Year, start.Month, start.Day, start.Hour, start.Minute, 0);
            var end = start + window;
            for (; minute <= end; minute = minute.AddMinutes(1))
            {
                if (!MinuteMatches(minute))
                {
                    continue;
                }

                int[] candidates = _seconds is null ? [0] : [.. _seconds.Order()];
                foreach (var second in candidates)
                {
                    var wall = minute.AddSeconds(second);
                    if (wall > start)
                    {
                        Assert.False(zone.IsInvalidTime(wall) || zone.IsAmbiguousTime(wall), $"The reference window must avoid DST transitions, but reached {wall:s} in {zone.Id}.");
                        return new DateTimeOffset(wall, zone.GetUtcOffset(wall));
                    }
                }
            }

            return null;
        }

        private bool MinuteMatches(DateTime t)
        {
            if (!_minutes.Contains(t.Minute) || !_hours.Contains(t.Hour) || !_months.Contains(t.Month))
            {
                return false;
            }

            var byMonth = _daysOfMonth.Contains(t.Day);
            var byWeek = _daysOfWeek.Contains((int)t.DayOfWeek);
            if (_anyDayOfMonth && _anyDayOfWeek)
            {
                return true;
            }

            if (_anyDayOfMonth)
            {
                return byWeek;
            }

            return _anyDayOfWeek ? byMonth : byMonth || byWeek;
        }

        /// <summary>Random text for one field and the values it allows; Any is true for exactly "*" or "?".</summary>
        private static (string Text, HashSet<int> Values, bool Any) Field(Random random, int min, int max, int wildcardMax,
            string[]? names, int firstNamed, bool often, bool questionMark = false)
        {
            if (random.Next(100) < (often ? 35 : 55))
            {
                var star = questionMark && random.Next(3) == 0 ? "?" : "*";
                return (star, Enumerable.Range(min, wildcardMax - min + 1).ToHashSet(), true);
            }

            var values = new HashSet<int>();
            var entries = new List<string>();
            var count = random.Next(100) < 70 ? 1 : random.Next(2, 4);
            for (var e = 0; e < count; e++)
            {
                entries.Add(Entry(random, min, max, wildcardMax, names, firstNamed, values));
            }

            return (string.Join(',', entries), values, false);
        }

        private static string Entry(Random random, int min, int max, int wildcardMax, string[]? names, int firstNamed, HashSet<int> values)
        {
            string Name(int value) => names is not null && value - firstNamed < names.Length && random.Next(3) == 0
                ? CaseVariant(random, names[value - firstNamed])
                : value.ToString(CultureInfo.InvariantCulture);

            var a = random.Next(min, max + 1);
            var b = random.Next(a, max + 1);
            var step = random.Next(1, Math.Min(max, 20) + 1);
            switch (random.Next(5))
            {
                case 0:
                    values.Add(a);
                    return Name(a);
                case 1:
                    AddStepped(values, a, b, 1);
                    return $"{Name(a)}-{Name(b)}";
                case 2:
                    AddStepped(values, min, wildcardMax, step);
                    return $"*/{step}";
                case 3:
                    AddStepped(values, a, b, step);
                    return $"{Name(a)}-{Name(b)}/{step}";
                default:
                    AddStepped(values, a, Math.Max(a, wildcardMax), step);
                    return $"{Name(a)}/{step}";
            }
        }

        private static void AddStepped(HashSet<int> values, int from, int to, int step)
        {
            for (var v = from; v <= to; v += step)
            {
                values.Add(v);
            }
        }

        private static string CaseVariant(Random random, string name) => random.Next(3) switch
        {
            0 => name,
            1 => name.ToLowerInvariant(),
            _ => name[..1] + name[1..].ToLowerInvariant(),
        };
    }

    // ---- Helpers --------------------------------------------------------------------------------------------

    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.None);

    private static string Show(DateTimeOffset value) => value.ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture);

    private static string Show(DateTimeOffset? value) => value is { } v ? Show(v) : "null";

    /// <summary>Berlin for +01:00/+02:00 and New York for -05:00/-04:00, so a DST row names its zone once.</summary>
    private static TimeZoneInfo ZoneOf(string expected) => expected.EndsWith("+01:00", StringComparison.Ordinal) || expected.EndsWith("+02:00", StringComparison.Ordinal)
        ? Berlin
        : NewYork;

    private static void ExpectNext(string expression, string after, string expected, TimeZoneInfo zone, string because)
    {
        // Given
        var cron = CronExpression.Parse(expression);

        // When
        var next = cron.GetNextOccurrence(At(after), zone);

        // Then: the same instant and the zone's offset at it
        var wanted = At(expected);
        Assert.True(next == wanted && next.Value.Offset == wanted.Offset,
            $"Expected \"{expression}\" after {after} in {zone.Id} at {Show(wanted)} ({because}), got {Show(next)}.");
    }

    private static void ExpectSequence(string expression, TimeZoneInfo zone, string after, params string[] expected)
    {
        // Given
        var cron = CronExpression.Parse(expression);

        // When: each occurrence is asked for strictly after the previous one
        var actual = new List<string>();
        var from = At(after);
        for (var i = 0; i < expected.Length && cron.GetNextOccurrence(from, zone) is { } next; i++)
        {
            actual.Add(Show(next));
            from = next;
        }

        // Then
        Assert.True(expected.SequenceEqual(actual),
            $"Expected \"{expression}\" after {after} in {zone.Id} to run at {string.Join(", ", expected)}; got {string.Join(", ", actual)}.");
    }
}
