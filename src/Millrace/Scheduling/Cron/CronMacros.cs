namespace Millrace;

/// <summary>The <c>@</c> shorthands a cron expression may be, and the five fields each stands for.</summary>
internal static class CronMacros
{
    private static readonly Dictionary<string, string> Fields = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
    };

    /// <summary>The list for messages.</summary>
    public const string Supported = "@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly";

    /// <summary>The five fields <paramref name="macro"/> (case-insensitive) stands for, or null when it is unknown.</summary>
    public static string? Expand(string macro) => Fields.GetValueOrDefault(macro);
}
