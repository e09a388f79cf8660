using System.CommandLine;
using Millrace.Cli.Hosting;
using Millrace.Cli.Output;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>pause</c>, <c>resume</c> (a queue, or one type with <c>--type</c>), <c>stop</c> and <c>resume-message</c>
/// (one message), <c>terminate</c> (a whole queue, with <c>--confirm &lt;queue&gt;</c>).
/// </summary>
internal static class ControlCommands
{
    private static readonly Argument<string> Queue = new("queue") { Description = "The queue." };

    private static readonly Argument<string> MessageId = new("message-id") { Description = "The message id (task id)." };

    private static readonly Option<string?> Type = new("--type", "-t") { Description = "Only this message type: its messages are parked while it is paused." };

    private static readonly Option<string?> Confirm = new("--confirm") { Description = "The queue's name again, to confirm." };

    public static IEnumerable<Command> Create()
    {
        var pause = new Command("pause", "Pause a queue (no worker reads from it; running handlers finish), or one message type with --type.") { Queue, Type };
        pause.SetRun(async (parse, host, ct) =>
        {
            var (queue, type) = (parse.GetValue(Queue)!, parse.GetValue(Type));
            await host.RequireQueueAsync(queue, ct).ConfigureAwait(false);
            if (type is null)
            {
                await host.Admin.PauseAsync(queue, ct).ConfigureAwait(false);
            }
            else
            {
                await host.Admin.PauseTypeAsync(queue, type, ct).ConfigureAwait(false);
            }

            Report(parse, new { queue, type, paused = true }, type is null ? $"paused '{queue}'." : $"paused type '{type}' on '{queue}': its messages are parked until it is resumed.");
            return ExitCodes.Ok;
        });

        var resume = new Command("resume", "Resume a paused queue, or a paused message type with --type (its parked messages go back to the queue).") { Queue, Type };
        resume.SetRun(async (parse, host, ct) =>
        {
            var (queue, type) = (parse.GetValue(Queue)!, parse.GetValue(Type));
            await host.RequireQueueAsync(queue, ct).ConfigureAwait(false);
            if (type is null)
            {
                await host.Admin.ResumeAsync(queue, ct).ConfigureAwait(false);
                Report(parse, new { queue, type, paused = false, unparked = 0 }, $"resumed '{queue}'.");
            }
            else
            {
                var moved = await host.Admin.ResumeTypeAsync(queue, type, ct).ConfigureAwait(false);
                Report(parse, new { queue, type, paused = false, unparked = moved }, $"resumed type '{type}' on '{queue}'; {moved} parked messages went back to the queue.");
            }

            return ExitCodes.Ok;
        });

        var stop = new Command("stop", "Stop one message: no worker handles it until resume-message (a handler already running it finishes).") { Queue, MessageId };
        stop.SetRun(async (parse, host, ct) =>
        {
            var (queue, id) = (parse.GetValue(Queue)!, parse.GetValue(MessageId)!);
            await host.RequireQueueAsync(queue, ct).ConfigureAwait(false);
            await host.Admin.StopMessageAsync(queue, id, ct).ConfigureAwait(false);
            Report(parse, new { queue, id, stopped = true }, $"stopped message {id} on '{queue}'.");
            return ExitCodes.Ok;
        });

        var resumeMessage = new Command("resume-message", "Resume a stopped message (if it was parked, it goes back to the queue).") { Queue, MessageId };
        resumeMessage.SetRun(async (parse, host, ct) =>
        {
            var (queue, id) = (parse.GetValue(Queue)!, parse.GetValue(MessageId)!);
            await host.RequireQueueAsync(queue, ct).ConfigureAwait(false);
            var unparked = await host.Admin.ResumeMessageAsync(queue, id, ct).ConfigureAwait(false);
            Report(parse, new { queue, id, stopped = false, unparked }, unparked ? $"resumed message {id} on '{queue}'; it went back to the queue." : $"resumed message {id} on '{queue}'.");
            return ExitCodes.Ok;
        });

        var terminate = new Command("terminate", "Delete a queue with everything in it (messages, delayed, parked, dead letters, groups). Needs --confirm <queue>.") { Queue, Confirm };
        terminate.SetRun(async (parse, host, ct) =>
        {
            var queue = parse.GetValue(Queue)!;
            if (parse.GetValue(Confirm) != queue)
            {
                throw new CliException(ExitCodes.NotConfirmed, $"terminate deletes '{queue}' and everything in it; repeat its name to confirm: --confirm {queue}");
            }

            await host.RequireQueueAsync(queue, ct).ConfigureAwait(false);
            await host.Admin.TerminateAsync(queue, ct).ConfigureAwait(false);
            Report(parse, new { queue, terminated = true }, $"terminated '{queue}': its messages, dead letters and groups are deleted; running workers of it stop.");
            return ExitCodes.Ok;
        });

        return [pause, resume, stop, resumeMessage, terminate];
    }

    /// <summary>Prints the result as JSON or as a sentence.</summary>
    public static void Report(ParseResult parse, object json, string sentence)
    {
        if (parse.Json())
        {
            Out.Json(json);
        }
        else
        {
            Out.Line(sentence);
        }
    }
}
