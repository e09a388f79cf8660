using System.CommandLine;
using Millrace.Cli.Hosting;
using Millrace.Cli.Output;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace queues [queue]</c>: every queue with its counts, or one queue's groups and consumers.</summary>
internal static class QueuesCommand
{
    private static readonly Argument<string?> Queue = new("queue")
    {
        Description = "Show this queue in detail (groups, consumers, pending, lag).",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public static Command Create()
    {
        var command = new Command("queues", "List the queues with their length, pending, delayed, dead-letter counts; or one queue in detail.") { Queue };
        command.SetRun(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliHost host, CancellationToken ct)
    {
        if (parse.GetValue(Queue) is { } name)
        {
            var info = await host.Admin.QueueInfoAsync(name, ct).ConfigureAwait(false);
            if (info is null)
            {
                await host.RequireQueueAsync(name, ct).ConfigureAwait(false);   // throws NotFound with the known names
                throw new CliException(ExitCodes.NotFound, $"unknown queue '{name}'.");
            }

            ShowOne(parse, info);
            return ExitCodes.Ok;
        }

        var names = await host.Admin.QueueNamesAsync(ct).ConfigureAwait(false);
        var infos = new List<QueueInfo>();
        foreach (var queue in names)
        {
            if (await host.Admin.QueueInfoAsync(queue, ct).ConfigureAwait(false) is { } info)
            {
                infos.Add(info);   // a queue terminated between the two calls is simply not listed
            }
        }

        if (parse.Json())
        {
            Out.Json(infos.Select(ToJson));
            return ExitCodes.Ok;
        }

        var table = Out.NewTable("queue", "partitions", "length", "pending", "lag", "delayed", "dead", "parked", "paused", "oldest pending");
        foreach (var q in infos)
        {
            table.Row(q.Name, q.Partitions, q.Length, q.Groups.Sum(g => g.Pending), Lag(q), q.Delayed, q.DeadLetters, q.Parked,
                q.Paused ? "yes" : q.PausedTypes.Count > 0 ? "types: " + string.Join(", ", q.PausedTypes) : "no", q.OldestPendingAge);
        }

        table.Caption(new TableTitle(infos.Count == 0 ? $"no queues under prefix '{host.Options.KeyPrefix}' yet" : $"{infos.Count} queues under prefix '{host.Options.KeyPrefix}'"));
        Out.Table(table);
        return ExitCodes.Ok;
    }

    private static void ShowOne(ParseResult parse, QueueInfo q)
    {
        if (parse.Json())
        {
            Out.Json(ToJson(q));
            return;
        }

        var summary = Out.NewTable("queue", "partitions", "length", "delayed", "dead", "parked", "paused", "oldest pending", "created");
        summary.Row(q.Name, q.Partitions, q.Length, q.Delayed, q.DeadLetters, q.Parked,
            q.Paused ? "yes" : q.PausedTypes.Count > 0 ? "types: " + string.Join(", ", q.PausedTypes) : "no", q.OldestPendingAge, q.CreatedAt);
        Out.Table(summary);

        var groups = Out.NewTable("group", "pending", "lag", "consumer", "consumer pending", "idle");
        foreach (var g in q.Groups)
        {
            if (g.Consumers.Count == 0)
            {
                groups.Row(g.Name, g.Pending, g.Lag, "-", "-", "-");
            }

            foreach (var c in g.Consumers)
            {
                groups.Row(g.Name, g.Pending, g.Lag, c.Name, c.Pending, c.Idle);
            }
        }

        groups.Caption(new TableTitle(q.Groups.Count == 0 ? "no consumer groups yet" : $"{q.Groups.Count} groups"));
        Out.Table(groups);
    }

    private static long? Lag(QueueInfo q) => q.Groups.Count == 0 ? null : q.Groups.Max(g => g.Lag);

    private static object ToJson(QueueInfo q) => new
    {
        name = q.Name, partitions = q.Partitions, length = q.Length, pending = q.Groups.Sum(g => g.Pending), delayed = q.Delayed,
        deadLetters = q.DeadLetters, parked = q.Parked, paused = q.Paused, pausedTypes = q.PausedTypes,
        oldestPendingSeconds = q.OldestPendingAge?.TotalSeconds, createdAt = q.CreatedAt,
        groups = q.Groups.Select(g => new
        {
            name = g.Name, pending = g.Pending, lag = g.Lag,
            consumers = g.Consumers.Select(c => new { name = c.Name, pending = c.Pending, idleSeconds = c.Idle.TotalSeconds }),
        }),
    };
}
