using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Millrace.Redis;

namespace Millrace.Cli.Hosting;

/// <summary>
/// A small generic host around Millrace for one command: configuration layered as in
/// <see cref="CliSettings"/>, <c>AddMillrace(configuration)</c>, and the <c>--redis</c> flag applied last.
/// Settings are validated when the host is made, so a bad one stops the command before it does anything.
/// </summary>
internal sealed class CliHost : IAsyncDisposable
{
    private readonly IHost _host;

    private CliHost(IHost host, IConfiguration configuration)
    {
        _host = host;
        Configuration = configuration;
        Options = host.Services.GetRequiredService<IOptions<MillraceOptions>>().Value;   // validates now
    }

    public IConfiguration Configuration { get; }

    public MillraceOptions Options { get; }

    public IServiceProvider Services => _host.Services;

    public MillraceAdmin Admin => Services.GetRequiredService<MillraceAdmin>();

    public IMessagePublisher Publisher => Services.GetRequiredService<IMessagePublisher>();

    public IRedisClient Redis => Services.GetRequiredService<IRedisClient>();

    /// <summary>Makes the host (not started: commands that run workers start it).</summary>
    public static CliHost Create(ParseResult parse, Action<MillraceBuilder>? configure = null, Action<MillraceOptions>? options = null)
    {
        var configuration = CliSettings.Build(parse);
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ContentRootPath = Directory.GetCurrentDirectory(),
        });
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // A failed start is reported once, as one line, by Program; the host's own log of it carries a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.Logging.AddConsole(o => o.FormatterName = OneLineLogFormatter.FormatterName)
            .AddConsoleFormatter<OneLineLogFormatter, ConsoleFormatterOptions>();
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(35));

        var redisFlag = parse.GetValue(GlobalOptions.Redis);
        var millrace = builder.Services.AddMillrace(configuration, o =>
        {
            if (!string.IsNullOrWhiteSpace(redisFlag))
            {
                o.RedisOptions = ParseRedisFlag(redisFlag);
            }

            // Consumers and cron jobs in a shared appsettings.json belong to the application's own hosts:
            // the CLI runs only the consumers its flags ask for (added after this), never the app's.
            o.Consumers.Clear();
            o.CronJobs.Clear();

            options?.Invoke(o);
        });
        configure?.Invoke(millrace);
        return new CliHost(builder.Build(), configuration);
    }

    /// <summary>Parses the <c>--redis</c> flag; an invalid one is bad input that names the flag.</summary>
    public static RedisOptions ParseRedisFlag(string text)
    {
        try
        {
            var parsed = RedisOptions.Parse(text);
            parsed.Validate();
            return parsed;
        }
        catch (RedisConfigurationException e)
        {
            throw new CliException(ExitCodes.BadInput, $"--redis: {e.Message}");
        }
    }

    /// <summary>Fails with <see cref="ExitCodes.NotFound"/> when <paramref name="queue"/> has never been declared under this prefix.</summary>
    public async Task RequireQueueAsync(string queue, CancellationToken cancellationToken)
    {
        if (!await Admin.QueueExistsAsync(queue, cancellationToken).ConfigureAwait(false))
        {
            var known = await Admin.QueueNamesAsync(cancellationToken).ConfigureAwait(false);
            var list = known.Count == 0 ? "there are none yet" : "known: " + string.Join(", ", known.Take(10)) + (known.Count > 10 ? ", ..." : "");
            throw new CliException(ExitCodes.NotFound, $"unknown queue '{queue}' under prefix '{Options.KeyPrefix}' ({list}).");
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => _host.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => _host.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            _host.Dispose();
        }
    }
}
