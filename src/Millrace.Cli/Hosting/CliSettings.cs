using System.CommandLine;
using Microsoft.Extensions.Configuration;

namespace Millrace.Cli.Hosting;

/// <summary>
/// The configuration layers, lowest first, as .NET hosts do it: appsettings.json next to the program,
/// appsettings.json in the working directory, the <c>--settings</c> file, environment variables
/// (<c>MILLRACE__REDIS</c>, <c>MILLRACE__KEYPREFIX</c>... and the seeds' <c>REDIS_*</c>), then flags.
/// </summary>
internal static class CliSettings
{
    /// <summary>The settings file name looked for next to the program and in the working directory.</summary>
    public const string FileName = "appsettings.json";

    /// <summary>Builds the configuration for one run.</summary>
    public static IConfigurationRoot Build(ParseResult parse)
    {
        var builder = new ConfigurationBuilder();
        foreach (var file in Files(parse))
        {
            builder.AddJsonFile(file.FullName, optional: !file.Required, reloadOnChange: false);
        }

        builder.AddEnvironmentVariables();
        builder.AddInMemoryCollection(Flags(parse));
        return builder.Build();
    }

    /// <summary>The settings files this run reads, in order, and whether each exists.</summary>
    public static IReadOnlyList<(string FullName, bool Required, bool Exists)> Files(ParseResult parse)
    {
        var files = new List<(string, bool, bool)>();
        var beside = Path.Combine(AppContext.BaseDirectory, FileName);
        var here = Path.GetFullPath(FileName);
        files.Add((beside, false, File.Exists(beside)));
        if (!string.Equals(beside, here, StringComparison.Ordinal))
        {
            files.Add((here, false, File.Exists(here)));
        }

        if (parse.GetValue(GlobalOptions.Settings) is { } extra)
        {
            if (!extra.Exists)
            {
                throw new CliException(ExitCodes.BadInput, $"--settings: the file '{extra.FullName}' does not exist.");
            }

            files.Add((extra.FullName, true, true));
        }

        return files;
    }

    private static Dictionary<string, string?> Flags(ParseResult parse)
    {
        var flags = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (parse.GetValue(GlobalOptions.Prefix) is { Length: > 0 } prefix)
        {
            flags["Millrace:KeyPrefix"] = prefix;
        }

        if (parse.GetValue(GlobalOptions.Namespace) is { Length: > 0 } ns)
        {
            flags["Millrace:Namespace"] = ns;
        }

        // --redis is applied after binding (see CliHost) so that it wins over the REDIS_* variables too.
        return flags;
    }
}
