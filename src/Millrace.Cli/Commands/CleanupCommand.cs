using System.CommandLine;
using Millrace.Cli.Hosting;
using Millrace.Cli.Output;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace cleanup &lt;queue&gt;</c>: deletes entries every group has acknowledged and that are older than the
/// retention policy's minimum (the queue's own policy, or <c>--policy critical|high|normal|low</c>).
/// </summary>
internal static class CleanupCommand
{
    private static readonly Argument<string> Queue = new("queue") { Description = "The queue." };

    private static readonly Option<string?> Policy = new("--policy")
    {
        Description = "Retention class: critical, high, normal or low (default: the queue's Retention setting, else normal).",
    };

    public static Command Create()
    {
        var command = new Command("cleanup", "Delete entries that every group has acknowledged and that are past the retention policy.") { Queue, Policy };
        Policy.AcceptOnlyFromAmong([.. RetentionPolicy.ClassNames]);
        command.SetRun(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliHost host, CancellationToken ct)
    {
        var queue = parse.GetValue(Queue)!;
        await host.RequireQueueAsync(queue, ct).ConfigureAwait(false);
        var policy = parse.GetValue(Policy) is { } name ? RetentionPolicy.FromName(name) : null;
        var result = await host.Admin.CleanupAsync(queue, policy, ct).ConfigureAwait(false);
        if (parse.Json())
        {
            Out.Json(new { queue, deleted = result.Deleted, policy = result.Policy.ToString(), ignoredGroups = result.IgnoredGroups });
            return ExitCodes.Ok;
        }

        Out.Line($"cleaned '{queue}': deleted {result.Deleted} acknowledged entries (policy {result.Policy})" +
            (result.IgnoredGroups.Count > 0 ? $"; inactive groups not waited for: {string.Join(", ", result.IgnoredGroups)}." : "."));
        return ExitCodes.Ok;
    }
}
