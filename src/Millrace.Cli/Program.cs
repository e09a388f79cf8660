using System.CommandLine;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using Millrace.Cli.Commands;
using Millrace.Cli.Hosting;

namespace Millrace.Cli;

/// <summary>Entry point of the <c>millrace</c> command.</summary>
public static class Program
{
    /// <summary>Parses the command line and runs the chosen command; the exit code says how it went (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> Main(string[] args)
    {
        var root = CreateRoot();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
        {
            // One line, not the help page: scripts and people both read the first error best.
            var command = string.Join(' ', parse.CommandResult.Command is RootCommand ? ["millrace"] : new[] { "millrace", parse.CommandResult.Command.Name });
            // An unknown word says more than "Required command was not provided", so it goes first.
            var error = parse.Errors.FirstOrDefault(e => parse.UnmatchedTokens.Any(t => e.Message.Contains(t, StringComparison.Ordinal))) ?? parse.Errors[0];
            await Console.Error.WriteLineAsync($"millrace: {CliErrors.OneLine(error.Message)} (see '{command} --help')").ConfigureAwait(false);
            return ExitCodes.BadInput;
        }

        // Ctrl-C and SIGTERM ask the command to stop (workers finish what they hold); a second Ctrl-C ends the process.
        using var stopping = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = !stopping.IsCancellationRequested;
            stopping.Cancel();
        };
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopping.Cancel();
        });

        try
        {
            var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
            return await parse.InvokeAsync(invocation, stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException && stopping.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("millrace: interrupted").ConfigureAwait(false);
            return ExitCodes.Interrupted;
        }
#pragma warning disable CA1031 // the one place every error becomes a line on stderr and an exit code
        catch (Exception e)
#pragma warning restore CA1031
        {
            var (code, message) = CliErrors.Describe(e);
            await Console.Error.WriteLineAsync($"millrace: {message}").ConfigureAwait(false);
            return code;
        }
    }

    /// <summary>The command tree.</summary>
    internal static RootCommand CreateRoot()
    {
        var root = new RootCommand("millrace: a message and task queue on Redis Streams. Publish, run workers and the server, inspect and steer queues.");
        foreach (var option in GlobalOptions.All)
        {
            root.Options.Add(option);
        }

        root.Subcommands.Add(PublishCommand.Create());
        root.Subcommands.Add(WorkerCommand.Create());
        root.Subcommands.Add(ServerCommand.Create());
        root.Subcommands.Add(StatsCommand.Create());
        root.Subcommands.Add(QueuesCommand.Create());
        root.Subcommands.Add(TasksCommand.Create());
        root.Subcommands.Add(DeadLetterCommand.Create());
        foreach (var command in ControlCommands.Create())
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(CleanupCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(SmokeCommand.Create());
        return root;
    }
}
