// A Millrace worker process for the multi-process tests (tests/Millrace.Tests/Support/WorkerProcess.cs).
// It runs a generic host with one queue and N consumers of one group; its only handler ("work") waits
// --handler-delay-ms (honouring its token), then records the handling with ONE command:
// HINCRBY <record> <message id> 1. A message id missing from the record was lost; a count above 1
// was handled more than once.
//
// Failure injection (tests/Millrace.Tests/Failures): --fail-rate <0..1> makes a handling throw with that
// probability, decided by a deterministic hash of (message id, attempt) (FailureDice below), so a run is
// reproducible and the test can compute which messages must end in the dead-letter queue. A failed
// handling records nothing. --max-attempts and --retry-delay-ms set the retry policy (no jitter);
// --breaker-threshold sets the circuit breaker (0 turns it off). Without these flags nothing changes.
//
// Flow control (tests/Millrace.Tests/Flow): --probe-concurrency <type> makes the handler of that type (registered
// beside "work" when it is another type) record, from inside the handler, how many handlers of it run at once over
// every process: on start one script adds 1 to this process's field of the hash <record>:inflight, sums the
// fields, raises <record>:max to the sum and appends "<server ms>:<sum>:<pid>" to the list <record>:starts; on
// the way out it subtracts 1 (a SIGKILLed process leaves its field behind: the test deletes it by pid).
// --flow-lease-ms and --limits-refresh-ms set MillraceOptions.Flow; --max-in-flight sets ConsumerOptions.MaxInFlight
// (how far a worker fetches ahead of its handlers, so a backlog spreads over several workers).
//
// Protocol on stdout: "READY <consumer name>..." once the host has started, "STOPPED <reason>" once it
// has stopped (reason: Requested or QueueDeleted). SIGTERM/SIGINT stop it gracefully (console lifetime);
// exit code 0 after a graceful stop. Logs (warnings and up) go to stderr.
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace;
using Millrace.Redis;

Dictionary<string, string> flags;
try
{
    flags = ParseFlags(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"Millrace.TestWorker: {e.Message}");
    Console.Error.WriteLine("usage: --redis <connection string> --prefix <key prefix> --queue <name> --record <redis key> " +
        "[--group workers] [--consumers 1] [--name <consumer name>] [--concurrency 16] [--partitions 1] " +
        "[--visibility-ms 30000] [--shutdown-ms 30000] [--handler-delay-ms 0] [--watch-stdin] " +
        "[--fail-rate 0] [--max-attempts <n>] [--retry-delay-ms <ms>] [--breaker-threshold <n>] " +
        "[--probe-concurrency <type>] [--flow-lease-ms <ms>] [--limits-refresh-ms <ms>] [--max-in-flight <n>]");
    return 64;
}

var redis = Required("redis");
var prefix = Required("prefix");
var queue = Required("queue");
var record = Required("record");
var group = Optional("group") ?? "workers";
var consumers = Number("consumers", 1);
var name = Optional("name");
var concurrency = Number("concurrency", 16);
var partitions = Number("partitions", 1);
var visibility = TimeSpan.FromMilliseconds(Number("visibility-ms", 30_000));
var shutdown = TimeSpan.FromMilliseconds(Number("shutdown-ms", 30_000));
var handlerDelay = TimeSpan.FromMilliseconds(Number("handler-delay-ms", 0));
var failRate = Fraction("fail-rate", 0);
int? maxAttempts = Optional("max-attempts") is null ? null : Number("max-attempts", 1);
int? retryDelayMs = Optional("retry-delay-ms") is null ? null : Number("retry-delay-ms", 0);
int? breakerThreshold = Optional("breaker-threshold") is null ? null : Number("breaker-threshold", 0);
var probeType = Optional("probe-concurrency");
int? flowLeaseMs = Optional("flow-lease-ms") is null ? null : Number("flow-lease-ms", 0);
int? limitsRefreshMs = Optional("limits-refresh-ms") is null ? null : Number("limits-refresh-ms", 0);
int? maxInFlight = Optional("max-in-flight") is null ? null : Number("max-in-flight", 1);

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = false });
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
builder.Logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// The host waits for the consumers' own graceful stop (ShutdownTimeout) and a margin for the acks.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdown + TimeSpan.FromSeconds(10));

var millrace = builder.Services.AddMillrace(o =>
    {
        o.Redis = redis;
        o.KeyPrefix = prefix;
        if (maxAttempts is not null || retryDelayMs is not null)
        {
            o.Retry = new RetryPolicy
            {
                MaxAttempts = maxAttempts ?? RetryPolicy.Default.MaxAttempts,
                InitialDelay = retryDelayMs is { } ms ? TimeSpan.FromMilliseconds(ms) : RetryPolicy.Default.InitialDelay,
                Jitter = 0,
            };
        }

        if (breakerThreshold is { } threshold)
        {
            o.CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = threshold };
        }

        if (flowLeaseMs is { } leaseMs)
        {
            o.Flow.ConcurrencyLeaseTime = TimeSpan.FromMilliseconds(leaseMs);
        }

        if (limitsRefreshMs is { } refreshMs)
        {
            o.Flow.LimitsRefresh = TimeSpan.FromMilliseconds(refreshMs);
        }
    })
    .AddQueue(queue, q => q.Partitions = partitions);
for (var i = 1; i <= consumers; i++)
{
    // Every consumer of one process needs its own name in the group.
    var consumerName = (name, consumers) switch
    {
        (null, 1) => null,   // Millrace's default: machine-pid-random
        (null, _) => $"{Environment.MachineName}-{Environment.ProcessId}-{i}",
        (_, 1) => name,
        _ => $"{name}-{i}",
    };
    millrace.AddConsumer(queue, c =>
    {
        c.Group = group;
        c.ConsumerName = consumerName;
        c.Concurrency = concurrency;
        c.VisibilityTimeout = visibility;
        c.ShutdownTimeout = shutdown;
        // A group this worker creates sees what was published before it started (no race with the test's publisher).
        c.StartPosition = StartPosition.Earliest;
        if (maxInFlight is { } window)
        {
            c.MaxInFlight = window;   // how many entries it fetches ahead of its handlers
        }
    });
}

millrace.AddHandler("work", Handle);
if (probeType is not null && probeType != "work")
{
    millrace.AddHandler(probeType, Handle);
}

using var host = builder.Build();
await host.StartAsync();
var workers = host.Services.GetRequiredService<MillraceWorkers>();
var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();

// Consumers that stop by themselves (their queue was deleted) end the process too.
var allDone = Task.WhenAll(workers.Consumers.Select(c => c.Done));
_ = allDone.ContinueWith(_ => lifetime.StopApplication(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

if (flags.ContainsKey("watch-stdin"))
{
    // The test holds our stdin open; if the test process dies, the pipe closes and this worker stops
    // instead of living on as an orphan.
    _ = Task.Run(async () =>
    {
        await Console.In.ReadToEndAsync();
        lifetime.StopApplication();
    });
}

Console.Out.WriteLine($"READY {string.Join(' ', workers.Consumers.Select(c => c.Name))}");
Console.Out.Flush();

await host.WaitForShutdownAsync();

var reasons = workers.Consumers.Select(c => c.Done.IsCompletedSuccessfully ? c.Done.Result.ToString() : "NotStopped").Distinct().ToArray();
Console.Out.WriteLine($"STOPPED {string.Join(',', reasons)}");
Console.Out.Flush();
return reasons.Contains("NotStopped") ? 1 : 0;

async Task Handle(MessageContext context, CancellationToken token)
{
    var probing = probeType is not null && context.Message.Type == probeType;
    if (probing)
    {
        await ConcurrencyProbe.EnterAsync(context.Services.GetRequiredService<IRedisClient>(), record);
    }

    try
    {
        await WorkAsync(context, token);
    }
    finally
    {
        if (probing)
        {
            await ConcurrencyProbe.ExitAsync(context.Services.GetRequiredService<IRedisClient>(), record);
        }
    }
}

async Task WorkAsync(MessageContext context, CancellationToken token)
{
    if (handlerDelay > TimeSpan.Zero)
    {
        await Task.Delay(handlerDelay, token);
    }

    if (failRate > 0 && FailureDice.Fails(context.Message.Id, context.Message.Attempt, failRate))
    {
        throw new InvalidOperationException($"Injected failure (--fail-rate {failRate.ToString(CultureInfo.InvariantCulture)}) of message {context.Message.Id}, attempt {context.Message.Attempt}.");
    }

    // Once handled, always recorded: not cancelled by the shutdown deadline half-way.
    var client = context.Services.GetRequiredService<IRedisClient>();
    await client.HIncrementAsync(record, context.Message.Id, 1, CancellationToken.None);
}

string Required(string flag) =>
    Optional(flag) ?? throw new InvalidOperationException($"Millrace.TestWorker: --{flag} is required.");

string? Optional(string flag) => flags.TryGetValue(flag, out var value) ? value : null;

int Number(string flag, int fallback) =>
    Optional(flag) is { } text
        ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new InvalidOperationException($"Millrace.TestWorker: --{flag} must be a non-negative integer (is '{text}').")
        : fallback;

double Fraction(string flag, double fallback) =>
    Optional(flag) is { } text
        ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is >= 0 and <= 1
            ? value
            : throw new InvalidOperationException($"Millrace.TestWorker: --{flag} must be a number from 0 to 1 (is '{text}').")
        : fallback;

static Dictionary<string, string> ParseFlags(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"unexpected argument '{args[i]}'");
        }

        var flag = args[i][2..];
        if (flag == "watch-stdin")
        {
            result[flag] = "";
            continue;
        }

        if (i + 1 >= args.Length)
        {
            throw new ArgumentException($"--{flag} needs a value");
        }

        result[flag] = args[++i];
    }

    return result;
}

/// <summary>
/// Whether an injected failure hits (message id, attempt): FNV-1a (64-bit) of "id:attempt" in UTF-8,
/// bit-mixed, mod 1,000,000, below rate × 1,000,000. The tests compute the same function (FailureDiceCopy in
/// tests/Millrace.Tests/Failures) to know which messages must run out of attempts.
/// </summary>
internal static class FailureDice
{
    public static bool Fails(string messageId, int attempt, double rate)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes($"{messageId}:{attempt.ToString(CultureInfo.InvariantCulture)}"))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        // FNV alone keeps "id:1", "id:2", "id:3" correlated (they differ in the last byte only): mix the bits (MurmurHash3's finaliser).
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        return hash % 1_000_000UL < (ulong)(rate * 1_000_000);
    }
}

/// <summary>
/// Counts the handlers of the probed type running at once over every worker process, in Redis, atomically:
/// the current count per process (hash <c>record:inflight</c>, field = pid), the largest total seen
/// (<c>record:max</c>) and a timeline of starts (<c>record:starts</c>: "server ms:total:pid").
/// </summary>
internal static class ConcurrencyProbe
{
    private static readonly RedisScript Enter = new("""
        redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
        local total = 0
        for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
        if total > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], total) end
        local t = redis.call('TIME')
        local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('RPUSH', KEYS[3], string.format('%d:%d:%s', ms, total, ARGV[1]))
        return total
        """);

    private static readonly string Pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    public static Task EnterAsync(IRedisClient redis, string record) =>
        redis.ExecuteAsync(Enter.Command([$"{record}:inflight", $"{record}:max", $"{record}:starts"], [Pid]), CancellationToken.None);

    public static Task ExitAsync(IRedisClient redis, string record) =>
        redis.ExecuteAsync(new RedisCommand("HINCRBY", [$"{record}:inflight", Pid, -1], 0), CancellationToken.None);
}
