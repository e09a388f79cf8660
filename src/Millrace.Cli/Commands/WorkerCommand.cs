using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Millrace.Cli.Demo;
using Millrace.Cli.Hosting;
using Millrace.Cli.Output;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace worker</c>: consumes queues with the built-in demo handlers (echo, sleep, fail) until Ctrl-C.</summary>
internal static class WorkerCommand
{
    public static readonly Option<string[]> Queues = new("--queue", "-q")
    {
        Description = "A queue to consume (repeatable).",
        DefaultValueFactory = _ => ["default"],
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<string> Group = new("--group", "-g")
    {
        Description = "The consumer group (workers in one group share the work).",
        DefaultValueFactory = _ => "workers",
    };

    public static readonly Option<int> Concurrency = new("--concurrency", "-c")
    {
        Description = "Handlers running at once per queue in this process.",
        DefaultValueFactory = _ => 16,
    };

    public static readonly Option<double> FailRate = new("--fail-rate")
    {
        Description = "How often the 'fail' handler fails, 0 to 1.",
        DefaultValueFactory = _ => 0.5,
    };

    public static readonly Option<TimeSpan?> Sleep = new("--sleep")
    {
        Description = "How long the 'sleep' handler sleeps when its payload does not say (500ms, 2s...). Default 1s.",
        CustomParser = CliParsers.Duration,
    };

    public static readonly Option<int?> MaxAttempts = new("--max-attempts")
    {
        Description = "Attempts before a failing message is dead-lettered (default: Millrace:Retry:MaxAttempts, else 5).",
    };

    public static readonly Option<TimeSpan?> RetryDelay = new("--retry-delay")
    {
        Description = "Delay before the first retry, doubling after (default: Millrace:Retry:InitialDelay, else 1s).",
        CustomParser = CliParsers.Duration,
    };

    public static readonly Option<bool> Quiet = new("--quiet")
    {
        Description = "Do not print a line per message.",
    };

    public static Command Create()
    {
        var command = new Command("worker", "Consume queues with the built-in demo handlers: echo, sleep (ms in the payload) and fail (with --fail-rate), until Ctrl-C.")
        {
            Queues, Group, Concurrency, FailRate, Sleep, MaxAttempts, RetryDelay, Quiet,
        };
        AddValidators();
        command.SetAction(RunAsync);
        return command;
    }

    /// <summary>Checks the worker flags (shared with <c>server --workers</c>).</summary>
    public static void AddValidators()
    {
        if (FailRate.Validators.Count > 0)
        {
            return;
        }

        FailRate.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is < 0 or > 1 or double.NaN)
            {
                r.AddError("--fail-rate must be between 0 and 1.");
            }
        });
        Concurrency.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 10_000)
            {
                r.AddError("--concurrency must be between 1 and 10000.");
            }
        });
        MaxAttempts.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1)
            {
                r.AddError("--max-attempts must be at least 1.");
            }
        });
    }

    /// <summary>Adds the consumers and demo handlers the worker flags ask for.</summary>
    public static void Configure(ParseResult parse, MillraceBuilder builder)
    {
        foreach (var queue in parse.GetValue(Queues)!)
        {
            builder.AddConsumer(queue, c =>
            {
                c.Group = parse.GetValue(Group)!;
                c.Concurrency = parse.GetValue(Concurrency);
                // A new group starts at the beginning, so messages published before the first worker are handled (seed 000's flow).
                c.StartPosition = StartPosition.Earliest;
            });
        }

        DemoHandlers.Register(builder, new DemoSettings(parse.GetValue(Sleep) ?? TimeSpan.FromSeconds(1), parse.GetValue(FailRate), parse.GetValue(Quiet)));
    }

    /// <summary>Applies --max-attempts and --retry-delay over the configured retry policy.</summary>
    public static void ConfigureRetry(ParseResult parse, MillraceOptions options)
    {
        var attempts = parse.GetValue(MaxAttempts);
        var delay = parse.GetValue(RetryDelay);
        if (attempts is null && delay is null)
        {
            return;
        }

        var current = options.Retry;
        options.Retry = new RetryPolicy
        {
            MaxAttempts = attempts ?? current.MaxAttempts,
            InitialDelay = delay ?? current.InitialDelay,
            MaxDelay = delay is { } d && d > current.MaxDelay ? d : current.MaxDelay,
            Multiplier = current.Multiplier,
            Jitter = current.Jitter,
            NonRetriable = current.NonRetriable,
        };
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        await using var host = CliHost.Create(parse, b => Configure(parse, b), o => ConfigureRetry(parse, o));
        await host.StartAsync(cancellationToken).ConfigureAwait(false);
        var queues = parse.GetValue(Queues)!;
        await Console.Error.WriteLineAsync(
            $"worker: consuming {string.Join(", ", queues.Select(q => $"'{q}'"))} (group '{parse.GetValue(Group)}', concurrency {parse.GetValue(Concurrency)}) " +
            $"on Redis {host.Redis.Options} under prefix '{host.Options.KeyPrefix}'; handlers: {string.Join(", ", DemoHandlers.Types)}. Ctrl-C stops.").ConfigureAwait(false);

        var workers = host.Services.GetRequiredService<MillraceWorkers>();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(() => stopped.TrySetResult()))
        {
            var finished = await Task.WhenAny([stopped.Task, .. workers.Consumers.Select(c => (Task)c.Done)]).ConfigureAwait(false);
            if (finished != stopped.Task)
            {
                var reason = await ((Task<ConsumerStopReason>)finished).ConfigureAwait(false);
                await Console.Error.WriteLineAsync($"worker: a consumer stopped ({reason}); stopping.").ConfigureAwait(false);
            }
        }

        // Two-phase stop: no new reads, running handlers get their shutdown timeout, then leases lapse for others to reclaim.
        await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await Console.Error.WriteLineAsync($"worker: stopped; handled {DemoHandlers.Handled}, failed attempts {DemoHandlers.Failed}.").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
