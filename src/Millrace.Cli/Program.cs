using System.CommandLine;
using Millrace.Cli.Commands;

namespace Millrace.Cli;

/// <summary>Entry point of the <c>millrace</c> command.</summary>
public static class Program
{
    /// <summary>Parses the command line and runs the chosen command; the exit code says how it went (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("Millrace: a message and task queue on Redis Streams.");
        root.Options.Add(GlobalOptions.Redis);
        root.Subcommands.Add(SmokeCommand.Create());
        return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
    }
}
