using System.Globalization;

namespace Millrace;

/// <summary>
/// Parses the text of one cron field into a <see cref="CronField"/>: <c>*</c>, <c>?</c> (day fields), numbers,
/// names, ranges <c>a-b</c>, lists <c>a,b</c>, steps <c>*/n</c>, <c>a-b/n</c> and <c>a/n</c>, and <c>L</c> in
/// day-of-month. Anything else throws <see cref="CronParseException"/>.
/// </summary>
internal static class CronFieldParser
{
    public static CronField Parse(string expression, string text, CronFieldSpec spec)
    {
        var values = 0UL;
        var includesLastDay = false;
        foreach (var entry in text.Split(','))
        {
            if (entry.Length == 0)
            {
                throw new CronParseException(expression, $"{spec.Name} has an empty entry in \"{text}\" (allowed {spec.Allowed}).");
            }

            if (spec.AcceptsLastDay && string.Equals(entry, "L", StringComparison.OrdinalIgnoreCase))
            {
                includesLastDay = true;
                continue;
            }

            values |= ParseEntry(expression, entry, spec);
        }

        if (spec == CronFieldSpec.DayOfWeek && (values & (1UL << 7)) != 0)
        {
            values = (values & ~(1UL << 7)) | 1UL;
        }

        var isUnrestricted = text is "*" or "?";
        var repeats = text.AsSpan().IndexOfAny("*-/") >= 0;
        return new CronField(values, isUnrestricted, repeats, includesLastDay);
    }

    private static ulong ParseEntry(string expression, string entry, CronFieldSpec spec)
    {
        var slash = entry.IndexOf('/', StringComparison.Ordinal);
        var rangeText = slash < 0 ? entry : entry[..slash];
        var step = slash < 0 ? 1 : ParseStep(expression, entry, entry[(slash + 1)..], spec);

        int start;
        int end;
        if (rangeText is "*" or "?")
        {
            if (rangeText == "?" && !spec.AcceptsQuestionMark)
            {
                throw new CronParseException(expression, $"{spec.Name} does not accept \"?\"; only day-of-month and day-of-week do (allowed {spec.Allowed}).");
            }

            start = spec.Min;
            end = spec.WildcardMax;
        }
        else
        {
            var dash = rangeText.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0)
            {
                start = ParseValue(expression, entry, rangeText, spec);
                end = slash < 0 ? start : Math.Max(start, spec.WildcardMax);
            }
            else
            {
                if (rangeText.IndexOf('-', dash + 1) >= 0)
                {
                    throw new CronParseException(expression, $"{spec.Name} range \"{rangeText}\" has more than one '-' (allowed {spec.Allowed}).");
                }

                start = ParseValue(expression, entry, rangeText[..dash], spec);
                end = ParseValue(expression, entry, rangeText[(dash + 1)..], spec);
                if (start > end)
                {
                    throw new CronParseException(expression, $"{spec.Name} range {rangeText} is reversed; write the smaller value first (allowed {spec.Allowed}).");
                }
            }
        }

        var values = 0UL;
        for (var value = start; value <= end; value += step)
        {
            values |= 1UL << value;
        }

        return values;
    }

    private static int ParseStep(string expression, string entry, string stepText, CronFieldSpec spec)
    {
        if (stepText.Contains('/', StringComparison.Ordinal))
        {
            throw new CronParseException(expression, $"{spec.Name} entry \"{entry}\" has more than one '/' (one step at most, e.g. */5).");
        }

        if (stepText.Length == 0 || !IsAsciiNumber(stepText))
        {
            throw new CronParseException(expression, $"{spec.Name} step \"{stepText}\" in \"{entry}\" is not a number (allowed 1-{spec.Max}).");
        }

        if (!TryParseSmallNumber(stepText, out var step) || step < 1 || step > spec.Max)
        {
            throw new CronParseException(expression, $"{spec.Name} step {stepText} is outside 1-{spec.Max}.");
        }

        return step;
    }

    private static int ParseValue(string expression, string entry, string text, CronFieldSpec spec)
    {
        if (text.Length == 0)
        {
            throw new CronParseException(expression, $"{spec.Name} entry \"{entry}\" is missing a value around '-' or '/' (allowed {spec.Allowed}).");
        }

        if (IsAsciiNumber(text))
        {
            if (!TryParseSmallNumber(text, out var number) || number < spec.Min || number > spec.Max)
            {
                throw new CronParseException(expression, $"{spec.Name} value {text} is outside {spec.Min}-{spec.Max}.");
            }

            return number;
        }

        var named = spec.ValueOfName(text);
        if (named >= 0)
        {
            return named;
        }

        if (spec.AcceptsLastDay && string.Equals(text, "L", StringComparison.OrdinalIgnoreCase))
        {
            throw new CronParseException(expression, $"{spec.Name} L (the last day of the month) stands alone; it cannot be part of a range or step as in \"{entry}\".");
        }

        var kind = spec.NameKind is null ? "a number" : $"a number or {spec.NameKind}";
        throw new CronParseException(expression, $"{spec.Name} value \"{text}\" is not {kind} (allowed {spec.Allowed}).");
    }

    private static bool IsAsciiNumber(string text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return text.Length > 0;
    }

    /// <summary>Parses up to four digits; longer numbers are out of every field's range anyway.</summary>
    private static bool TryParseSmallNumber(string digits, out int number)
    {
        number = 0;
        return digits.Length <= 4 && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }
}
