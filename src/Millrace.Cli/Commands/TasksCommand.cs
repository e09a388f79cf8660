using System.CommandLine;
using System.Text;
using Millrace.Cli.Hosting;
using Millrace.Cli.Output;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace tasks list|show</c>: task records (state, attempts and their errors, result). Recorded only
/// when <c>Millrace:TaskState:Enabled</c> is true in the processes that publish and handle.
/// </summary>
internal static class TasksCommand
{
    private static readonly Option<TaskState?> State = new("--state", "-s") { Description = "Only tasks in this state: pending, scheduled, processing, succeeded, failed, dead, stopped." };

    private static readonly Option<string?> Type = new("--type", "-t") { Description = "Only this message type." };

    private static readonly Option<string?> Queue = new("--queue", "-q") { Description = "Only this queue." };

    private static readonly Option<int> Limit = new("--limit", "-n") { Description = "Most tasks per page (1 to 1000).", DefaultValueFactory = _ => 50 };

    private static readonly Option<string?> Cursor = new("--cursor") { Description = "Continue after a previous page (its nextCursor)." };

    private static readonly Argument<string> Id = new("id") { Description = "The message id (task id)." };

    public static Command Create()
    {
        var tasks = new Command("tasks", "Task records: list by state, type or queue; show one with its attempts (needs Millrace:TaskState:Enabled).");
        var list = new Command("list", "List task records, newest first.") { State, Type, Queue, Limit, Cursor };
        Limit.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 1000)
            {
                r.AddError("--limit must be between 1 and 1000.");
            }
        });
        list.SetRun(ListAsync);
        var show = new Command("show", "Show one task: state, attempts, errors, payload, result.") { Id };
        show.SetRun(ShowAsync);
        tasks.Subcommands.Add(list);
        tasks.Subcommands.Add(show);
        return tasks;
    }

    private static async Task<int> ListAsync(ParseResult parse, CliHost host, CancellationToken ct)
    {
        var page = await host.Admin.TasksAsync(new TaskQuery
        {
            State = parse.GetValue(State),
            Type = parse.GetValue(Type),
            Queue = parse.GetValue(Queue),
            Limit = parse.GetValue(Limit),
            Cursor = parse.GetValue(Cursor),
        }, ct).ConfigureAwait(false);

        if (parse.Json())
        {
            Out.Json(new { items = page.Items.Select(ToJson), nextCursor = page.NextCursor });
            return ExitCodes.Ok;
        }

        var table = Out.NewTable("id", "queue", "type", "state", "attempts", "created", "updated", "last error");
        foreach (var t in page.Items)
        {
            table.Row(t.Id, t.Queue, t.Type, t.State.ToString().ToLowerInvariant(), t.Attempts, t.CreatedAt, t.UpdatedAt, t.Errors.Count == 0 ? null : Shorten(t.Errors[^1].Error));
        }

        var hint = page.Items.Count == 0 && !host.Options.TaskState.Enabled ? " (task records are kept only with Millrace:TaskState:Enabled=true)" : "";
        table.Caption(new TableTitle($"{page.Items.Count} tasks{(page.NextCursor is null ? "" : $"; more with --cursor {page.NextCursor}")}{hint}"));
        Out.Table(table);
        return ExitCodes.Ok;
    }

    private static async Task<int> ShowAsync(ParseResult parse, CliHost host, CancellationToken ct)
    {
        var id = parse.GetValue(Id)!;
        var task = await host.Admin.TaskAsync(id, ct).ConfigureAwait(false)
            ?? throw new CliException(ExitCodes.NotFound, $"no task record '{id}' (records are kept for Millrace:TaskState:Ttl, and only with Millrace:TaskState:Enabled=true).");
        if (parse.Json())
        {
            Out.Json(ToJson(task));
            return ExitCodes.Ok;
        }

        var grid = new Grid().AddColumn().AddColumn();
        void Add(string name, object? value) => grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(Out.Format(value)));
        Add("id", task.Id);
        Add("queue", task.Queue);
        Add("type", task.Type);
        Add("state", task.State.ToString().ToLowerInvariant());
        Add("attempts", task.Attempts);
        Add("created", task.CreatedAt);
        Add("updated", task.UpdatedAt);
        Add("tenant", task.Tenant);
        Add("headers", task.Headers.Count == 0 ? null : string.Join(", ", task.Headers.Select(h => $"{h.Key}={h.Value}")));
        Add("payload", Encoding.UTF8.GetString(task.Payload.Span) + (task.PayloadTruncated ? " (truncated)" : ""));
        Add("result", task.Result);
        foreach (var error in task.Errors)
        {
            Add($"attempt {error.Attempt} error", $"{Out.Format(error.At)}: {error.Error}");
        }

        Out.Table(grid);
        return ExitCodes.Ok;
    }

    private static object ToJson(TaskRecord t) => new
    {
        id = t.Id, queue = t.Queue, type = t.Type, state = t.State, attempts = t.Attempts, createdAt = t.CreatedAt, updatedAt = t.UpdatedAt,
        tenant = t.Tenant, payload = Encoding.UTF8.GetString(t.Payload.Span), payloadTruncated = t.PayloadTruncated, headers = t.Headers,
        errors = t.Errors, result = t.Result,
    };

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..59] + "…";
}
