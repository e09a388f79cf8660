using System.CommandLine;

namespace Millrace.Cli.Hosting;

/// <summary>Runs a command's body with a <see cref="CliHost"/> made from the parsed flags, and disposes it afterwards.</summary>
internal static class CommandRunner
{
    /// <param name="command">The command.</param>
    /// <param name="run">Its body.</param>
    /// <param name="start">
    /// Start the host's services around the body (publishing does: the statistics flusher then writes
    /// its counts, and the start pings Redis so an outage is reported before anything is sent).
    /// </param>
    public static void SetRun(this Command command, Func<ParseResult, CliHost, CancellationToken, Task<int>> run, bool start = false)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var host = CliHost.Create(parse);
            if (!start)
            {
                return await run(parse, host, cancellationToken).ConfigureAwait(false);
            }

            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            var code = await run(parse, host, cancellationToken).ConfigureAwait(false);
            await host.StopAsync(CancellationToken.None).ConfigureAwait(false);   // last statistics flush
            return code;
        });
    }

    /// <summary>True when <c>--json</c> was given.</summary>
    public static bool Json(this ParseResult parse) => parse.GetValue(GlobalOptions.Json);
}
