using System.CommandLine;
using Millrace.Cli.Hosting;
using Millrace.Cli.Output;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace stats</c>: per-minute counts across every process (published, processed, failed, retried, dead-lettered), and the live workers.</summary>
internal static class StatsCommand
{
    private static readonly Option<string?> Queue = new("--queue", "-q") { Description = "Only this queue (default: all queues)." };

    private static readonly Option<int> Minutes = new("--minutes", "-m") { Description = "How many minutes back (1 to 120).", DefaultValueFactory = _ => 15 };

    public static Command Create()
    {
        var command = new Command("stats", "Per-minute counts across every process (published, processed, failed, retried, dead-lettered) and the live workers.") { Queue, Minutes };
        Minutes.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 120)
            {
                r.AddError("--minutes must be between 1 and 120.");
            }
        });
        command.SetRun(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliHost host, CancellationToken ct)
    {
        var queue = parse.GetValue(Queue);
        if (queue is not null)
        {
            await host.RequireQueueAsync(queue, ct).ConfigureAwait(false);   // a typo is an error, not a page of zeros
        }

        var buckets = await host.Admin.StatsAsync(queue, parse.GetValue(Minutes), ct).ConfigureAwait(false);
        var workers = await host.Admin.WorkersAsync(ct).ConfigureAwait(false);
        var totals = new
        {
            published = buckets.Sum(b => b.Published),
            processed = buckets.Sum(b => b.Processed),
            failed = buckets.Sum(b => b.Failed),
            retried = buckets.Sum(b => b.Retried),
            deadLettered = buckets.Sum(b => b.DeadLettered),
        };

        if (parse.Json())
        {
            Out.Json(new { queue, minutes = parse.GetValue(Minutes), totals, buckets, workers });
            return ExitCodes.Ok;
        }

        var table = Out.NewTable("minute (UTC)", "published", "processed", "failed", "retried", "dead-lettered");
        foreach (var b in buckets.Where(b => b.Published + b.Processed + b.Failed + b.Retried + b.DeadLettered > 0))
        {
            table.Row(b.Minute.ToUniversalTime().ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture), b.Published, b.Processed, b.Failed, b.Retried, b.DeadLettered);
        }

        table.Row("total", totals.published, totals.processed, totals.failed, totals.retried, totals.deadLettered);
        table.Caption(new TableTitle($"{(queue is null ? "all queues" : $"queue '{queue}'")}, last {parse.GetValue(Minutes)} minutes, prefix '{host.Options.KeyPrefix}'"));
        Out.Table(table);

        if (workers.Count > 0)
        {
            var live = Out.NewTable("worker", "host", "pid", "queues", "started", "last heartbeat", "processed", "failed", "in flight");
            foreach (var w in workers)
            {
                live.Row(w.Id, w.Host, w.ProcessId, string.Join(", ", w.Queues), w.StartedAt, w.LastHeartbeat, w.Processed, w.Failed, w.InFlight);
            }

            Out.Table(live);
        }
        else
        {
            Out.Line("no workers are running.");
        }

        return ExitCodes.Ok;
    }
}
