using System.CommandLine.Parsing;
using System.Globalization;

namespace Millrace.Cli.Hosting;

/// <summary>Value parsers for flags (durations, key=value pairs); errors become one-line parse errors.</summary>
internal static class CliParsers
{
    /// <summary>Parses 500ms, 5s, 2m, 1h, 1d, a plain number of milliseconds, or hh:mm:ss.</summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var t = text.Trim().ToLowerInvariant();
        (string Suffix, double Ms)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)];
        foreach (var (suffix, ms) in units)
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal) && double.TryParse(t[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 && n * ms < TimeSpan.MaxValue.TotalMilliseconds)
            {
                duration = TimeSpan.FromMilliseconds(n * ms);
                return true;
            }
        }

        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var plain) && plain >= 0 && plain < TimeSpan.MaxValue.TotalMilliseconds)
        {
            duration = TimeSpan.FromMilliseconds(plain);
            return true;
        }

        return TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out duration) && duration >= TimeSpan.Zero;
    }

    /// <summary>A System.CommandLine parser for an optional duration flag.</summary>
    public static TimeSpan? Duration(ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;
        if (TryParseDuration(token, out var duration))
        {
            return duration;
        }

        result.AddError($"{OptionName(result)} '{token}' is not a duration; use 500ms, 5s, 2m, 1h or hh:mm:ss.");
        return null;
    }

    /// <summary>Parses repeated key=value flags into a dictionary.</summary>
    public static Dictionary<string, string>? Pairs(ArgumentResult result)
    {
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var token in result.Tokens)
        {
            var equals = token.Value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                result.AddError($"{OptionName(result)} '{token.Value}' is not key=value.");
                return null;
            }

            pairs[token.Value[..equals]] = token.Value[(equals + 1)..];
        }

        return pairs;
    }

    private static string OptionName(ArgumentResult result) =>
        result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;
}
