using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Millrace.Cli.Hosting;
using Millrace.Cli.Output;
using Spectre.Console;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace publish [payload]</c>: publishes a message (seed 000: the payload is the argument,
/// <c>default-task</c> when none is given), or <c>--count N</c> of them in batches with a progress bar.
/// </summary>
internal static class PublishCommand
{
    private const string DefaultPayload = "default-task";

    private static readonly Argument<string> Payload = new("payload")
    {
        Description = $"The payload (text). Default: {DefaultPayload}. With --count, {{n}} is replaced by the message's number (1..N).",
        DefaultValueFactory = _ => DefaultPayload,
    };

    public static readonly Option<string> Queue = new("--queue", "-q")
    {
        Description = "The queue to publish to.",
        DefaultValueFactory = _ => "default",
    };

    private static readonly Option<string> Type = new("--type", "-t")
    {
        Description = "The message type (selects the handler). The demo worker handles echo, sleep and fail.",
        DefaultValueFactory = _ => "echo",
    };

    private static readonly Option<string?> File = new("--file", "-f")
    {
        Description = "Read the payload from this file ('-' for stdin) instead of the argument.",
    };

    private static readonly Option<int> Count = new("--count", "-n")
    {
        Description = "Publish this many messages (batched, with a progress bar).",
        DefaultValueFactory = _ => 1,
    };

    private static readonly Option<int> Batch = new("--batch")
    {
        Description = "Messages per round trip with --count.",
        DefaultValueFactory = _ => 1000,
    };

    private static readonly Option<TimeSpan?> Delay = new("--delay")
    {
        Description = "Deliver no sooner than this from now: 500ms, 5s, 2m, 1h or hh:mm:ss.",
        CustomParser = CliParsers.Duration,
    };

    private static readonly Option<int> Priority = new("--priority", "-p")
    {
        Description = "Priority (0 is the lowest; the queue's PriorityLevels decides how many levels there are).",
    };

    private static readonly Option<Dictionary<string, string>?> Headers = new("--header", "-H")
    {
        Description = "A header, key=value (repeatable).",
        CustomParser = CliParsers.Pairs,
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };

    private static readonly Option<string?> DedupKey = new("--dedup-key")
    {
        Description = "Deduplication key: while it is remembered, another message with it adds nothing.",
    };

    private static readonly Option<string?> Tenant = new("--tenant")
    {
        Description = "The tenant the message belongs to.",
    };

    private static readonly Option<string?> PartitionKey = new("--partition-key")
    {
        Description = "Messages with the same partition key go to the same partition, in order.",
    };

    private static readonly Option<string?> Id = new("--id")
    {
        Description = "The message id (default: a new UUIDv7). Not with --count.",
    };

    public static Command Create()
    {
        var command = new Command("publish", "Publish a message (or --count N of them) to a queue.")
        {
            Payload, Queue, Type, File, Count, Batch, Delay, Priority, Headers, DedupKey, Tenant, PartitionKey, Id,
        };
        Count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--count must be at least 1.");
            }
        });
        Batch.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 100_000)
            {
                r.AddError("--batch must be between 1 and 100000.");
            }
        });
        Payload.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && r.Tokens[0].Value is { Length: > 1 } text && text[0] == '-')
            {
                r.AddError($"Unrecognized option '{text}' (a payload that starts with '-' must come from --file).");
            }
        });
        command.SetRun(RunAsync, start: true);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CliHost host, CancellationToken cancellationToken)
    {
        var payload = await PayloadAsync(parse, cancellationToken).ConfigureAwait(false);
        var count = parse.GetValue(Count);
        if (count > 1 && parse.GetValue(Id) is not null)
        {
            throw new CliException(ExitCodes.BadInput, "--id gives one message its id; it cannot be used with --count.");
        }

        var template = new Template(parse, payload);
        if (count == 1)
        {
            var result = await host.Publisher.PublishAsync(template.Message(1), cancellationToken).ConfigureAwait(false);
            if (parse.Json())
            {
                Out.Json(new { id = result.MessageId, queue = template.Queue, partition = result.Partition, streamId = result.StreamId, duplicate = result.Duplicate, deliverAt = result.DeliverAt });
            }
            else if (result.Duplicate)
            {
                Out.Line($"duplicate: dedup key '{template.DedupKey}' is taken by message {result.MessageId}; nothing was added to '{template.Queue}'.");
            }
            else if (result.DeliverAt is { } due)
            {
                Out.Line($"scheduled {result.MessageId} on '{template.Queue}' (partition {result.Partition}), due at {Out.Format(due)}.");
            }
            else
            {
                Out.Line($"published {result.MessageId} to '{template.Queue}' (partition {result.Partition}, entry {result.StreamId}).");
            }

            return ExitCodes.Ok;
        }

        return await PublishManyAsync(parse, host, template, count, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> PublishManyAsync(ParseResult parse, CliHost host, Template template, int count, CancellationToken cancellationToken)
    {
        var batchSize = parse.GetValue(Batch);
        const int inFlight = 4;   // batches on the wire at once: keeps the pipeline full without flooding Redis
        long published = 0, duplicates = 0;
        var clock = Stopwatch.StartNew();

        await Out.Progress.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"publishing {count} to '{template.Queue}'", maxValue: count);
                var running = new List<Task>(inFlight);
                for (var start = 1; start <= count; start += batchSize)
                {
                    var size = Math.Min(batchSize, count - start + 1);
                    var batch = new OutgoingMessage[size];
                    for (var i = 0; i < size; i++)
                    {
                        batch[i] = template.Message(start + i);
                    }

                    running.Add(SendAsync(batch, task));
                    if (running.Count >= inFlight)
                    {
                        var done = await Task.WhenAny(running).ConfigureAwait(false);
                        running.Remove(done);
                        await done.ConfigureAwait(false);
                    }
                }

                await Task.WhenAll(running).ConfigureAwait(false);
                task.Value = count;
            }).ConfigureAwait(false);

        if (Console.IsErrorRedirected)
        {
            // Spectre's plain-text fallback prints progress at steps and may skip the last one: say it finished.
            await Console.Error.WriteLineAsync($"publishing {count} to '{template.Queue}': 100%").ConfigureAwait(false);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var rate = published / Math.Max(seconds, 1e-6);
        if (parse.Json())
        {
            Out.Json(new { queue = template.Queue, published, duplicates, seconds = Math.Round(seconds, 3), perSecond = Math.Round(rate) });
        }
        else
        {
            Out.Line($"published {published} messages to '{template.Queue}' in {Out.Duration(clock.Elapsed)} ({rate:0} per second){(duplicates > 0 ? $"; {duplicates} were duplicates and added nothing" : "")}.");
        }

        return ExitCodes.Ok;

        async Task SendAsync(OutgoingMessage[] batch, ProgressTask task)
        {
            var results = await host.Publisher.PublishBatchAsync(batch, cancellationToken).ConfigureAwait(false);
            var dups = results.Count(r => r.Duplicate);
            Interlocked.Add(ref published, results.Count - dups);
            Interlocked.Add(ref duplicates, dups);
            task.Increment(batch.Length);
        }
    }

    private static async Task<string> PayloadAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var file = parse.GetValue(File);
        var argumentGiven = parse.GetResult(Payload) is { Tokens.Count: > 0 };
        if (file is null)
        {
            return parse.GetValue(Payload) ?? DefaultPayload;
        }

        if (argumentGiven)
        {
            throw new CliException(ExitCodes.BadInput, "give the payload as an argument or with --file, not both.");
        }

        if (file == "-")
        {
            using var stdin = new StreamReader(Console.OpenStandardInput(), Encoding.UTF8);
            return await stdin.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!System.IO.File.Exists(file))
        {
            throw new CliException(ExitCodes.BadInput, $"--file: '{Path.GetFullPath(file)}' does not exist.");
        }

        return await System.IO.File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Everything but the payload's number is the same for every message of one run.</summary>
    private sealed class Template(ParseResult parse, string payload)
    {
        private readonly bool _numbered = payload.Contains("{n}", StringComparison.Ordinal);
        private readonly byte[] _bytes = Encoding.UTF8.GetBytes(payload);

        public string Queue { get; } = parse.GetValue(PublishCommand.Queue)!;

        public string? DedupKey { get; } = parse.GetValue(PublishCommand.DedupKey);

        private readonly string _type = parse.GetValue(Type)!;
        private readonly Dictionary<string, string>? _headers = parse.GetValue(Headers);
        private readonly int _priority = parse.GetValue(Priority);
        private readonly string? _tenant = parse.GetValue(Tenant);
        private readonly string? _partitionKey = parse.GetValue(PartitionKey);
        private readonly TimeSpan? _delay = parse.GetValue(Delay);
        private readonly string? _id = parse.GetValue(Id);

        public OutgoingMessage Message(int n) => new()
        {
            Queue = Queue,
            Type = _type,
            Payload = _numbered ? Encoding.UTF8.GetBytes(payload.Replace("{n}", n.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)) : _bytes,
            Headers = _headers,
            Priority = _priority,
            Tenant = _tenant,
            PartitionKey = _partitionKey,
            DedupKey = DedupKey,
            Delay = _delay,
            Id = _id,
        };
    }
}
