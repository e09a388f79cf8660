using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Millrace.Redis;

namespace Millrace.Bench;

/// <summary>
/// <c>client</c>: pipelined XADD throughput of Millrace.Redis against what <c>redis-benchmark</c>
/// gets from the same server in the same run, plus the unpipelined round trip. See docs/benchmarks.md.
/// </summary>
internal static class ClientBenchmark
{
    public const string Usage =
        """
          --address host:port   Redis to use (default: start the bench Redis with deploy/redis/topology.sh, 127.0.0.1:6395)
          --count N             XADDs per throughput phase, for redis-benchmark and for the client (default 1000000)
          --concurrency N       concurrent callers in the "concurrent" phase (default 64)
          --batch N             commands per ExecuteBatchAsync in the "batch" phase (default 16, like -P 16)
          --batch-callers N     concurrent callers in the "batch" phase (default 50, like -c 50)
          --rtt-count N         sequential round trips timed (default 20000)
        """;

    private const string Name = "client";
    private const int ValueSize = 100;
    private const int WarmupOps = 20_000;
    private const int RttWarmupOps = 1_000;
    private const int RedisBenchmarkPipeline = BenchRedis.ReferencePipeline;
    private const int RedisBenchmarkClients = BenchRedis.ReferenceClients;

    /// <summary>
    /// The token the measured calls pass: none, the default for application code that does not
    /// cancel single commands. A cancellable token makes every call wait through an extra async
    /// method with a registration (RedisConnection.WithCancellation), which would be measured too;
    /// the loops check Ctrl+C between calls instead.
    /// </summary>
    private static readonly CancellationToken OpToken = CancellationToken.None;

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken cancellationToken)
    {
        var address = args.GetString("--address");
        var count = args.GetInt64("--count", 1_000_000, max: int.MaxValue);
        var concurrency = (int)args.GetInt64("--concurrency", 64, max: 100_000);
        var batchSize = (int)args.GetInt64("--batch", RedisBenchmarkPipeline, max: 100_000);
        var batchCallers = (int)args.GetInt64("--batch-callers", RedisBenchmarkClients, max: 100_000);
        var rttCount = (int)args.GetInt64("--rtt-count", 20_000, max: 100_000_000);
        args.EnsureAllUsed();
        BenchRedis.RequireRedisBenchmark();

        var endpoint = await BenchRedis.ResolveAsync(address, cancellationToken);

        var total = Stopwatch.StartNew();
        var key = $"millrace:bench:xadd:{Environment.ProcessId}";
        var value = Encoding.ASCII.GetBytes(new string('v', ValueSize));
        var valueText = Encoding.ASCII.GetString(value);
        StreamField[] fields = [new("f", value)];

        Progress($"server {endpoint}, key {key}, {count:N0} XADDs per phase, field value {ValueSize} bytes, {Environment.ProcessorCount} cores");
        if (await PhaseMeter.MachineBusyAsync(TimeSpan.FromSeconds(1), cancellationToken) is { } busy)
        {
            Progress(busy > 0.25
                ? $"WARNING: the machine was already {busy:P0} of one core busy before the run; the figures will be low and noisy"
                : $"machine idle before the run ({busy:P0} of one core busy)");
        }

        await using var redis = await RedisClient.ConnectAsync(RedisOptions.Parse(endpoint.ToString()), cancellationToken);
        await DeleteAsync(redis, key, cancellationToken);
        var serverPid = await ServerIo.LocalServerPidAsync(redis, endpoint, cancellationToken);

        // Runs one phase and describes where its time went (client and server CPU, allocations, server reads).
        async Task<(T Result, string Usage)> MeasureAsync<T>(long ops, Func<Task<T>> run)
        {
            var meter = new PhaseMeter(serverPid);
            var io = await ServerIo.ReadAsync(redis, cancellationToken);
            var result = await run();
            return (result, meter.Describe(ops) + await io.DescribeSinceAsync(redis, cancellationToken));
        }

        // 1. redis-benchmark: the server's capacity for this exact command with -P 16 -c 50.
        Progress($"redis-benchmark -P {RedisBenchmarkPipeline} -c {RedisBenchmarkClients} -n {count} XADD {key} * f <{ValueSize} bytes>");
        var phase = Stopwatch.StartNew();
        var (rb, usage) = await MeasureAsync(count, () => BenchRedis.RunXaddReferenceAsync(endpoint, key, ["f", valueText], count, cancellationToken));
        await ExpectLengthAsync(redis, key, count, "redis-benchmark", cancellationToken);
        await DeleteAsync(redis, key, cancellationToken);
        Progress($"  redis-benchmark: {rb.RequestsPerSecond:N0} XADD/s (p50 {rb.Milliseconds("p50_latency_ms")} ms, p99 {rb.Milliseconds("p99_latency_ms")} ms per command) in {phase.Elapsed.TotalSeconds:F1} s");
        Progress($"    {usage} (rest of machine = redis-benchmark itself)");

        // 2. Warm up both client paths (JIT, tiering, buffers), then start from an empty stream.
        Progress($"warm-up: {WarmupOps:N0} concurrent + {WarmupOps:N0} batched XADDs");
        await RunConcurrentAsync(redis, key, fields, WarmupOps, concurrency, cancellationToken);
        await RunBatchedAsync(redis, key, fields, WarmupOps, batchCallers, batchSize, cancellationToken);
        await DeleteAsync(redis, key, cancellationToken);

        // 3a. Concurrent callers, one ExecuteAsync each at a time: pipelining through the multiplexer.
        Progress($"concurrent: {concurrency} callers awaiting ExecuteAsync(XAdd) in a loop, {count:N0} XADDs");
        (var concurrentRate, usage) = await MeasureAsync(count, () => RunConcurrentAsync(redis, key, fields, count, concurrency, cancellationToken));
        await ExpectLengthAsync(redis, key, count, "concurrent phase", cancellationToken);
        await DeleteAsync(redis, key, cancellationToken);
        Progress($"  concurrent: {concurrentRate:N0} XADD/s ({concurrentRate / rb.RequestsPerSecond:F3} of redis-benchmark)");
        Progress($"    {usage}");

        // 3b. Explicit batches, mirroring redis-benchmark's -P 16 -c 50.
        var batchMode = $"batch{batchSize}";
        Progress($"{batchMode}: {batchCallers} callers awaiting ExecuteBatchAsync({batchSize} x XAdd) in a loop, {count:N0} XADDs");
        (var batchRate, usage) = await MeasureAsync(count, () => RunBatchedAsync(redis, key, fields, count, batchCallers, batchSize, cancellationToken));
        await ExpectLengthAsync(redis, key, count, "batch phase", cancellationToken);
        await DeleteAsync(redis, key, cancellationToken);
        Progress($"  {batchMode}: {batchRate:N0} XADD/s ({batchRate / rb.RequestsPerSecond:F3} of redis-benchmark)");
        Progress($"    {usage}");

        // 4. Round trip: one caller, one command in flight.
        Progress($"round trip: {rttCount:N0} sequential ExecuteAsync(XAdd) (after {RttWarmupOps:N0} untimed)");
        (var rtt, usage) = await MeasureAsync(rttCount + RttWarmupOps, () => MeasureRoundTripsAsync(redis, key, fields, rttCount, cancellationToken));
        await DeleteAsync(redis, key, cancellationToken);
        Progress($"  round trip: p50 {rtt[0]:F1} us, p99 {rtt[1]:F1} us");
        Progress($"    {usage}");

        // For context only (not in the JSON): the same unpipelined round trip from redis-benchmark (C, one connection).
        var rbRtt = (await BenchRedis.RunRedisBenchmarkAsync(
            endpoint,
            ["-P", "1", "-c", "1", "-n", rttCount.ToString(CultureInfo.InvariantCulture)],
            ["XADD", key, "*", "f", valueText],
            cancellationToken))[^1];
        await DeleteAsync(redis, key, cancellationToken);
        Progress($"  for reference, redis-benchmark -P 1 -c 1: p50 {rbRtt.Milliseconds("p50_latency_ms") * 1000:F0} us, p99 {rbRtt.Milliseconds("p99_latency_ms") * 1000:F0} us (coarse histogram buckets)");

        var (best, mode) = batchRate > concurrentRate ? (batchRate, batchMode) : (concurrentRate, "concurrent");
        var result = new ClientResult(
            ClientXaddPerSecond: (long)Math.Round(best),
            RedisBenchmarkXaddPerSecond: (long)Math.Round(rb.RequestsPerSecond),
            Ratio: Math.Round(best / rb.RequestsPerSecond, 3),
            ClientRttP50Microseconds: Math.Round(rtt[0], 1),
            ClientRttP99Microseconds: Math.Round(rtt[1], 1),
            ClientBatchXaddPerSecond: (long)Math.Round(batchRate),
            ClientConcurrentXaddPerSecond: (long)Math.Round(concurrentRate),
            ClientMode: mode);
        Progress($"done in {total.Elapsed.TotalSeconds:F1} s: ratio {result.Ratio:F3} ({mode}; target >= 0.7)");
        Console.Out.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }

    /// <summary><paramref name="callers"/> loops, each awaiting one XADD at a time; returns XADDs per second.</summary>
    private static async Task<double> RunConcurrentAsync(IRedisClient redis, string key, StreamField[] fields, long total, int callers, CancellationToken cancellationToken)
    {
        var tasks = new Task[callers];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < callers; i++)
        {
            tasks[i] = CallerAsync(redis, key, fields, Share(total, callers, i), cancellationToken);
        }

        await Task.WhenAll(tasks);
        return total / clock.Elapsed.TotalSeconds;

        static async Task CallerAsync(IRedisClient redis, string key, StreamField[] fields, long ops, CancellationToken cancellationToken)
        {
            for (long i = 0; i < ops; i++)
            {
                // A fresh command per op, as an application builds them. No token on the call (see OpToken).
                cancellationToken.ThrowIfCancellationRequested();
                await redis.ExecuteAsync(StreamCommands.XAdd(key, fields), OpToken);
            }
        }
    }

    /// <summary><paramref name="callers"/> loops, each awaiting one batch of <paramref name="batchSize"/> XADDs at a time.</summary>
    private static async Task<double> RunBatchedAsync(IRedisClient redis, string key, StreamField[] fields, long total, int callers, int batchSize, CancellationToken cancellationToken)
    {
        var tasks = new Task[callers];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < callers; i++)
        {
            tasks[i] = CallerAsync(redis, key, fields, Share(total, callers, i), batchSize, cancellationToken);
        }

        await Task.WhenAll(tasks);
        return total / clock.Elapsed.TotalSeconds;

        static async Task CallerAsync(IRedisClient redis, string key, StreamField[] fields, long ops, int batchSize, CancellationToken cancellationToken)
        {
            while (ops > 0)
            {
                var commands = new RedisCommand[(int)Math.Min(batchSize, ops)];
                for (var i = 0; i < commands.Length; i++)
                {
                    commands[i] = StreamCommands.XAdd(key, fields);
                }

                cancellationToken.ThrowIfCancellationRequested();
                var replies = await redis.ExecuteBatchAsync(commands, OpToken);
                foreach (var reply in replies)
                {
                    if (reply.IsError)
                    {
                        throw new BenchException($"XADD in a batch failed: {reply.AsString()}");
                    }
                }

                ops -= commands.Length;
            }
        }
    }

    /// <summary>Times <paramref name="count"/> sequential XADDs; returns p50 and p99 in microseconds.</summary>
    private static async Task<double[]> MeasureRoundTripsAsync(IRedisClient redis, string key, StreamField[] fields, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < RttWarmupOps; i++)
        {
            await redis.ExecuteAsync(StreamCommands.XAdd(key, fields), OpToken);
        }

        var samples = new long[count];
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = Stopwatch.GetTimestamp();
            await redis.ExecuteAsync(StreamCommands.XAdd(key, fields), OpToken);
            samples[i] = Stopwatch.GetTimestamp() - start;
        }

        return Percentiles.Microseconds(samples, 50, 99);
    }

    /// <summary>Caller <paramref name="index"/>'s part of <paramref name="total"/> split over <paramref name="callers"/>.</summary>
    private static long Share(long total, int callers, int index) => (total / callers) + (index < total % callers ? 1 : 0);

    private static Task DeleteAsync(IRedisClient redis, string key, CancellationToken cancellationToken) =>
        redis.ExecuteAsync(new RedisCommand("DEL", [key], 0), cancellationToken);

    private static async Task ExpectLengthAsync(IRedisClient redis, string key, long expected, string what, CancellationToken cancellationToken)
    {
        var length = await redis.XLenAsync(key, cancellationToken);
        if (length != expected)
        {
            throw new BenchException($"after the {what} the stream {key} has {length:N0} entries, not {expected:N0}: the run did not do what it claims.");
        }
    }

    private static void Progress(string message) => BenchRedis.Progress(Name, message);

    /// <summary>The JSON line printed last on stdout.</summary>
    private sealed record ClientResult(
        [property: JsonPropertyName("client_xadd_per_s")] long ClientXaddPerSecond,
        [property: JsonPropertyName("redis_benchmark_xadd_per_s")] long RedisBenchmarkXaddPerSecond,
        [property: JsonPropertyName("ratio")] double Ratio,
        [property: JsonPropertyName("client_rtt_us_p50")] double ClientRttP50Microseconds,
        [property: JsonPropertyName("client_rtt_us_p99")] double ClientRttP99Microseconds,
        [property: JsonPropertyName("client_batch_xadd_per_s")] long ClientBatchXaddPerSecond,
        [property: JsonPropertyName("client_concurrent_xadd_per_s")] long ClientConcurrentXaddPerSecond,
        [property: JsonPropertyName("client_mode")] string ClientMode);
}
