using System.CommandLine;
using Millrace.Cli.Hosting;
using Millrace.Cli.Output;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace dlq list|show|requeue|purge</c>: the dead-letter queue of a queue.</summary>
internal static class DeadLetterCommand
{
    private static readonly Argument<string> Queue = new("queue") { Description = "The queue." };

    private static readonly Argument<string> Id = new("id") { Description = "The dead letter's id (<partition>/<entry id>, as dlq list shows it)." };

    private static readonly Argument<string?> OptionalId = new("id")
    {
        Description = "The dead letter's id (<partition>/<entry id>); or use --all.",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static readonly Option<int> Limit = new("--limit", "-n") { Description = "Most dead letters to list.", DefaultValueFactory = _ => 50 };

    private static readonly Option<string?> Type = new("--type", "-t") { Description = "Only this message type." };

    private static readonly Option<string?> Reason = new("--reason") { Description = "Only this reason (failed, poison, oversized, no-handler...)." };

    private static readonly Option<string?> ErrorContains = new("--error") { Description = "Only where the error type or message contains this text." };

    private static readonly Option<bool> All = new("--all") { Description = "Requeue every dead letter that matches the filters." };

    private static readonly Option<bool> DryRun = new("--dry-run") { Description = "With --all: only say what would be requeued." };

    private static readonly Option<string?> Confirm = new("--confirm") { Description = "The queue's name again, to confirm the purge." };

    public static Command Create()
    {
        var dlq = new Command("dlq", "The dead-letter queue: list, show, requeue, purge.");

        var list = new Command("list", "List the newest dead letters of a queue.") { Queue, Limit, Type, Reason, ErrorContains };
        Limit.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 10_000)
            {
                r.AddError("--limit must be between 1 and 10000.");
            }
        });
        list.SetRun(ListAsync);

        var show = new Command("show", "Show one dead letter: its payload, headers and the error that buried it.") { Queue, Id };
        show.SetRun(ShowAsync);

        var requeue = new Command("requeue", "Move a dead letter (or --all that match) back to its queue as a fresh first attempt.") { Queue, OptionalId, All, DryRun, Type, Reason, ErrorContains };
        requeue.SetRun(RequeueAsync);

        var purge = new Command("purge", "Delete every dead letter of a queue. Needs --confirm <queue>.") { Queue, Confirm };
        purge.SetRun(PurgeAsync);

        dlq.Subcommands.Add(list);
        dlq.Subcommands.Add(show);
        dlq.Subcommands.Add(requeue);
        dlq.Subcommands.Add(purge);
        return dlq;
    }

    private static DeadLetterFilter Filter(ParseResult parse) => new()
    {
        Type = parse.GetValue(Type),
        Reason = parse.GetValue(Reason),
        ErrorContains = parse.GetValue(ErrorContains),
    };

    private static async Task<int> ListAsync(ParseResult parse, CliHost host, CancellationToken ct)
    {
        var queue = parse.GetValue(Queue)!;
        await host.RequireQueueAsync(queue, ct).ConfigureAwait(false);
        var letters = await host.Admin.DeadLettersAsync(queue, parse.GetValue(Limit), Filter(parse), ct).ConfigureAwait(false);
        var total = await host.Admin.DeadLetterCountAsync(queue, ct).ConfigureAwait(false);
        if (parse.Json())
        {
            Out.Json(new { queue, total, items = letters.Select(Summary) });
            return ExitCodes.Ok;
        }

        var table = Out.NewTable("id", "message id", "type", "reason", "attempts", "last failed", "error");
        foreach (var l in letters)
        {
            table.Row(l.Id, l.MessageId, l.Type, l.Reason, l.Attempts, l.LastFailedAt, Shorten(l.ErrorMessage ?? l.ErrorType ?? "", 60));
        }

        table.Caption(new TableTitle($"{letters.Count} shown of {total} dead letters in '{queue}'"));
        Out.Table(table);
        return ExitCodes.Ok;
    }

    private static async Task<int> ShowAsync(ParseResult parse, CliHost host, CancellationToken ct)
    {
        var (queue, id) = (parse.GetValue(Queue)!, parse.GetValue(Id)!);
        await host.RequireQueueAsync(queue, ct).ConfigureAwait(false);
        var letter = await host.Admin.DeadLetterAsync(queue, id, ct).ConfigureAwait(false)
            ?? throw new CliException(ExitCodes.NotFound, $"no dead letter '{id}' in '{queue}' (see 'millrace dlq list {queue}').");
        if (parse.Json())
        {
            Out.Json(Detail(letter));
            return ExitCodes.Ok;
        }

        var grid = new Grid().AddColumn().AddColumn();
        foreach (var (name, value) in Fields(letter))
        {
            grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(Out.Format(value)));
        }

        Out.Table(grid);
        return ExitCodes.Ok;
    }

    private static async Task<int> RequeueAsync(ParseResult parse, CliHost host, CancellationToken ct)
    {
        var queue = parse.GetValue(Queue)!;
        var id = parse.GetValue(OptionalId);
        var all = parse.GetValue(All);
        if (all == (id is not null))
        {
            throw new CliException(ExitCodes.BadInput, "give one dead-letter id, or --all (with optional --type/--reason/--error filters and --dry-run).");
        }

        await host.RequireQueueAsync(queue, ct).ConfigureAwait(false);
        if (id is not null)
        {
            if (!await host.Admin.RequeueDeadLetterAsync(queue, id, ct).ConfigureAwait(false))
            {
                throw new CliException(ExitCodes.NotFound, $"no dead letter '{id}' in '{queue}' (see 'millrace dlq list {queue}').");
            }

            ControlCommands.Report(parse, new { queue, requeued = 1, ids = new[] { id } }, $"requeued {id} to '{queue}'.");
            return ExitCodes.Ok;
        }

        var dryRun = parse.GetValue(DryRun);
        var result = await host.Admin.RequeueDeadLettersAsync(queue, Filter(parse), dryRun, ct).ConfigureAwait(false);
        ControlCommands.Report(parse, new { queue, dryRun, matched = result.Matched, requeued = result.Requeued, ids = result.Ids },
            dryRun ? $"dry run: {result.Matched} dead letters in '{queue}' match and would be requeued; nothing was moved." : $"requeued {result.Requeued} of {result.Matched} matching dead letters to '{queue}'.");
        return ExitCodes.Ok;
    }

    private static async Task<int> PurgeAsync(ParseResult parse, CliHost host, CancellationToken ct)
    {
        var queue = parse.GetValue(Queue)!;
        if (parse.GetValue(Confirm) != queue)
        {
            throw new CliException(ExitCodes.NotConfirmed, $"purge deletes every dead letter of '{queue}'; repeat its name to confirm: --confirm {queue}");
        }

        await host.RequireQueueAsync(queue, ct).ConfigureAwait(false);
        var purged = await host.Admin.PurgeDeadLettersAsync(queue, ct).ConfigureAwait(false);
        ControlCommands.Report(parse, new { queue, purged }, $"purged {purged} dead letters from '{queue}'.");
        return ExitCodes.Ok;
    }

    private static object Summary(DeadLetter l) => new
    {
        id = l.Id, messageId = l.MessageId, type = l.Type, reason = l.Reason, attempts = l.Attempts,
        firstFailedAt = l.FirstFailedAt, lastFailedAt = l.LastFailedAt, errorType = l.ErrorType, errorMessage = l.ErrorMessage,
    };

    private static Dictionary<string, object?> Detail(DeadLetter l)
    {
        var detail = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in Fields(l))
        {
            detail[name] = value;
        }

        return detail;
    }

    private static IEnumerable<(string Name, object? Value)> Fields(DeadLetter l)
    {
        yield return ("id", l.Id);
        yield return ("queue", l.Queue);
        yield return ("messageId", l.MessageId);
        yield return ("type", l.Type);
        yield return ("reason", l.Reason);
        yield return ("attempts", l.Attempts);
        yield return ("firstFailedAt", l.FirstFailedAt);
        yield return ("lastFailedAt", l.LastFailedAt);
        yield return ("errorType", l.ErrorType);
        yield return ("errorMessage", l.ErrorMessage);
        yield return ("errorStack", l.ErrorStack);
        yield return ("payload", l.Payload is { } payload ? System.Text.Encoding.UTF8.GetString(payload.Span) : null);
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
