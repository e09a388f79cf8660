using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Millrace.Cli.Demo;
using Millrace.Cli.Hosting;
using Millrace.Server;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace server</c>: the HTTP API and dashboard (<see cref="MillraceServerApp"/>), optionally with the demo
/// workers (<c>--workers</c>) and a demo producer (<c>--demo</c>) in the same process. Runs until Ctrl-C.
/// </summary>
internal static class ServerCommand
{
    private static readonly Option<string?> Urls = new("--urls")
    {
        Description = "Where to listen, semicolon-separated (default: Millrace:Server:Urls, else http://127.0.0.1:8080).",
    };

    private static readonly Option<bool> Workers = new("--workers")
    {
        Description = "Also run the demo workers (echo, sleep, fail) on the --queue queues in this process.",
    };

    private static readonly Option<bool> Demo = new("--demo")
    {
        Description = "Also run a demo producer that publishes a mix of echo, sleep and fail messages.",
    };

    private static readonly Option<double> DemoRate = new("--demo-rate")
    {
        Description = "Messages per second the demo producer publishes.",
        DefaultValueFactory = _ => 20,
    };

    public static Command Create()
    {
        var command = new Command("server", "Run the HTTP API and dashboard; with --workers also the demo workers, with --demo also a demo producer. Ctrl-C stops.")
        {
            Urls, Workers, Demo, DemoRate,
            WorkerCommand.Queues, WorkerCommand.Group, WorkerCommand.Concurrency, WorkerCommand.FailRate, WorkerCommand.Sleep,
            WorkerCommand.MaxAttempts, WorkerCommand.RetryDelay, WorkerCommand.Quiet,
        };
        WorkerCommand.AddValidators();
        DemoRate.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is <= 0 or > 100_000 or double.NaN)
            {
                r.AddError("--demo-rate must be above 0 and at most 100000 per second.");
            }
        });
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var app = MillraceServerApp.Build(ServerArgs(parse), builder => Configure(parse, builder));
        await using (app.ConfigureAwait(false))
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var urls = string.Join(", ", app.Urls);
            var parts = new List<string> { "API and dashboard" };
            if (parse.GetValue(Workers))
            {
                parts.Add($"demo workers on {string.Join(", ", parse.GetValue(WorkerCommand.Queues)!)}");
            }

            if (parse.GetValue(Demo))
            {
                parts.Add($"demo producer at {parse.GetValue(DemoRate)}/s");
            }

            await Console.Out.WriteLineAsync($"millrace server: {string.Join(", ", parts)}; dashboard at {urls} . Ctrl-C stops.").ConfigureAwait(false);
            try
            {
                await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl-C: stop below.
            }

            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await Console.Out.WriteLineAsync("millrace server: stopped.").ConfigureAwait(false);
        }

        return ExitCodes.Ok;
    }

    /// <summary>Our flags as the configuration keys the server reads (command-line configuration wins over everything else there).</summary>
    private static string[] ServerArgs(ParseResult parse)
    {
        var args = new List<string>();
        if (parse.GetValue(GlobalOptions.Prefix) is { Length: > 0 } prefix)
        {
            args.Add($"--Millrace:KeyPrefix={prefix}");
        }

        if (parse.GetValue(GlobalOptions.Namespace) is { Length: > 0 } ns)
        {
            args.Add($"--Millrace:Namespace={ns}");
        }

        if (parse.GetValue(Urls) is { Length: > 0 } urls)
        {
            args.Add($"--{MillraceServerOptions.SectionName}:Urls={urls}");
        }

        return [.. args];
    }

    private static void Configure(ParseResult parse, WebApplicationBuilder builder)
    {
        // The same files the other commands read: appsettings.json next to the program, then the --settings
        // file, both below the environment variables (the working directory's appsettings.json is read already).
        var sources = builder.Configuration.Sources;
        var beside = Path.Combine(AppContext.BaseDirectory, CliSettings.FileName);
        sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = beside, Optional = true, FileProvider = null });
        ((Microsoft.Extensions.Configuration.Json.JsonConfigurationSource)sources[0]).ResolveFileProvider();
        if (parse.GetValue(GlobalOptions.Settings) is { } extra)
        {
            if (!extra.Exists)
            {
                throw new CliException(ExitCodes.BadInput, $"--settings: the file '{extra.FullName}' does not exist.");
            }

            var at = sources.ToList().FindIndex(s => s is EnvironmentVariablesConfigurationSource);
            var source = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = extra.FullName, Optional = false };
            source.ResolveFileProvider();
            sources.Insert(at < 0 ? sources.Count : at, source);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.FormatterName = OneLineLogFormatter.FormatterName)
            .AddConsoleFormatter<OneLineLogFormatter, ConsoleFormatterOptions>();
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);   // a failed start is reported once by Program
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);

        var millrace = builder.Services.AddMillrace();   // the server's registration; this returns its builder

        // As in every millrace command: only the consumers the flags ask for, not an application's configured ones.
        builder.Services.Configure<MillraceOptions>(o =>
        {
            o.Consumers.Clear();
            o.CronJobs.Clear();
        });
        if (parse.GetValue(GlobalOptions.Redis) is { Length: > 0 } redis)
        {
            var parsed = CliHost.ParseRedisFlag(redis);
            builder.Services.PostConfigure<MillraceOptions>(o => o.RedisOptions = parsed);   // the flag beats REDIS_* and Millrace:Redis
        }

        if (parse.GetValue(Workers))
        {
            WorkerCommand.Configure(parse, millrace);
            builder.Services.PostConfigure<MillraceOptions>(o => WorkerCommand.ConfigureRetry(parse, o));
        }

        if (parse.GetValue(Demo))
        {
            var queues = parse.GetValue(WorkerCommand.Queues)!;
            var rate = parse.GetValue(DemoRate);
            builder.Services.AddHostedService(sp => new DemoProducer(
                sp.GetRequiredService<IMessagePublisher>(), queues, rate, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<DemoProducer>>()));
        }
    }
}
