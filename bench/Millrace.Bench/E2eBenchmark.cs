using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace.Bench;

/// <summary>
/// <c>e2e</c>: Millrace end to end on one Redis: publish throughput (<see cref="IMessagePublisher.PublishBatchAsync"/>),
/// process throughput (a consumer group working through a full stream with a no-op handler, until
/// everything is acknowledged) and publish-to-handler latency at a steady rate, beside
/// <c>redis-benchmark</c>'s XADD figure from the same server in the same run. See docs/benchmarks.md.
/// </summary>
internal static class E2eBenchmark
{
    public const string Usage =
        """
          --address host:port   Redis to use (default: start the bench Redis with deploy/redis/topology.sh, 127.0.0.1:6395)
          --count N             messages published, then processed, in the throughput phases (default 200000)
          --publishers N        concurrent callers of PublishBatchAsync (default 4)
          --publish-batch N     messages per PublishBatchAsync (default 100)
          --concurrency N       consumer Concurrency, handler workers (default 16, the library default)
          --max-in-flight N     consumer MaxInFlight, messages held at once (default 128, the library default for concurrency 16: 8 x concurrency, at least 128)
          --fetch-count N       consumer FetchCount, most entries per XREADGROUP (default 128)
          --rate N              latency phase: messages published per second (default 1000)
          --latency-seconds N   latency phase: seconds of publishing; the first is dropped as warm-up (default 11)
          --reference-count N   XADDs per redis-benchmark reference run (default 1000000)
          --alloc-profile 0|1   1: print a sampled allocation profile (bytes per message by type) after each phase (default 0)
        """;

    private const string Name = "e2e";
    private const string MessageType = "noop";
    private const string Group = "bench";
    private const string ThroughputQueue = "bench.e2e";
    private const string LatencyQueue = "bench.latency";
    private const string WarmupQueue = "bench.warmup";
    private const int PayloadSize = 100;
    private const int WarmupMessages = 20_000;
    private const int WarmupMaxRounds = 20;
    private const int WarmupSettledMethods = 60;   // a warm-up round that compiles no more than this ends the warm-up
    private static readonly TimeSpan WarmupPause = TimeSpan.FromMilliseconds(300);

    /// <summary>No progress for this long in a wait means the run is stuck: fail, saying what was seen.</summary>
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What the measured phases send per message; anything else beyond a trickle came from another client.</summary>
    private static readonly IReadOnlySet<string> MessagePathCommands = new HashSet<string>(StringComparer.Ordinal) { "xadd", "xreadgroup", "xack", "xpending", "config|get" };

    /// <summary>Other work above this many cores during a phase gets a warning (and is in the JSON).</summary>
    private const double OtherLoadWarning = 0.25;

    /// <summary>What redis-benchmark itself uses (about 0.5-0.7 cores here): "rest of machine" in its phases.</summary>
    private const double RedisBenchmarkLoad = 0.75;

    /// <summary>
    /// What publishers pass as the token: none, as in the client benchmark (a cancellable token adds an
    /// async wrapper and a registration per call in the client, which would be measured too).
    /// </summary>
    private static readonly CancellationToken OpToken = CancellationToken.None;

    private sealed record Settings(
        long Count, int Publishers, int PublishBatch, int Concurrency, int MaxInFlight, int FetchCount, int Rate, int LatencySeconds);

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken cancellationToken)
    {
        var address = args.GetString("--address");
        var concurrency = (int)args.GetInt64("--concurrency", 16, max: 10_000);
        var settings = new Settings(
            Count: args.GetInt64("--count", 200_000, max: 100_000_000),
            Publishers: (int)args.GetInt64("--publishers", 4, max: 10_000),
            PublishBatch: (int)args.GetInt64("--publish-batch", 100, max: 100_000),
            Concurrency: concurrency,
            MaxInFlight: (int)args.GetInt64("--max-in-flight", 128, min: concurrency, max: 1_000_000),
            FetchCount: (int)args.GetInt64("--fetch-count", 128, max: 100_000),
            Rate: (int)args.GetInt64("--rate", 1000, max: 100_000),
            LatencySeconds: (int)args.GetInt64("--latency-seconds", 11, min: 2, max: 600));
        var referenceCount = args.GetInt64("--reference-count", 1_000_000, max: int.MaxValue);
        using var sampler = args.GetInt64("--alloc-profile", 0, min: 0, max: 1) == 1 ? new AllocationSampler() : null;
        args.EnsureAllUsed();
        BenchRedis.RequireRedisBenchmark();

        var endpoint = await BenchRedis.ResolveAsync(address, cancellationToken);

        var total = Stopwatch.StartNew();
        // A namespace of our own per run: nothing collides with another run or anything else on the server.
        var prefix = $"millrace-bench-e2e:{Environment.ProcessId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
        var referenceKey = $"{prefix}:redis-benchmark";
        Progress($"server {endpoint}, key prefix {prefix}, {Environment.ProcessorCount} cores, runtime {Environment.Version}");
        Progress($"settings: {settings.Count:N0} messages of {PayloadSize} bytes; {settings.Publishers} publishers x PublishBatchAsync({settings.PublishBatch}); " +
            $"consumer Concurrency {settings.Concurrency}, MaxInFlight {settings.MaxInFlight}, FetchCount {settings.FetchCount}; latency at {settings.Rate:N0}/s for {settings.LatencySeconds} s");
        // `dotnet run` leaves its build servers busy for a moment: give the machine up to 10 s to settle.
        for (var second = 1; await PhaseMeter.MachineBusyAsync(TimeSpan.FromSeconds(1), cancellationToken) is { } busy; second++)
        {
            if (busy <= OtherLoadWarning || second == 10)
            {
                Progress(busy > OtherLoadWarning
                    ? $"WARNING: the machine was already {busy:P0} of one core busy before the run; the figures will be low and noisy"
                    : $"machine idle before the run ({busy:P0} of one core busy)");
                break;
            }
        }

        await using var control = await RedisClient.ConnectAsync(RedisOptions.Parse(endpoint.ToString()), cancellationToken);
        var serverPid = await ServerIo.LocalServerPidAsync(control, endpoint, cancellationToken);
        var run = new Run(endpoint, prefix, settings, control, serverPid, sampler, cancellationToken);
        try
        {
            // 1. The reference: redis-benchmark's XADD on the same server, exactly the client benchmark's command.
            var value = new string('v', PayloadSize);
            Progress($"redis-benchmark -P {BenchRedis.ReferencePipeline} -c {BenchRedis.ReferenceClients} -n {referenceCount} XADD {referenceKey} * f <{PayloadSize} bytes>");
            var rb = await run.MeasureAsync(referenceCount, () => BenchRedis.RunXaddReferenceAsync(endpoint, referenceKey, ["f", value], referenceCount, cancellationToken), RedisBenchmarkLoad);
            await run.ExpectLengthAsync(referenceKey, referenceCount, "redis-benchmark");
            await run.DeleteAsync(referenceKey);
            Progress($"  redis-benchmark: {rb.Result.RequestsPerSecond:N0} XADD/s (in both redis-benchmark phases \"rest of machine\" is mostly redis-benchmark itself)");
            Progress($"    {rb.Usage}");

            // For context: the same tool on an entry shaped like a Millrace message (four fields instead of one).
            Progress($"redis-benchmark, same options, XADD of a Millrace-shaped entry ({EnvelopeFields.TaskId}, {EnvelopeFields.Type}, {EnvelopeFields.Payload}, {EnvelopeFields.CreatedAt})");
            var rbEnvelope = await run.MeasureAsync(referenceCount, () => BenchRedis.RunXaddReferenceAsync(
                endpoint,
                referenceKey,
                [EnvelopeFields.TaskId, new string('0', 32), EnvelopeFields.Type, MessageType, EnvelopeFields.Payload, value, EnvelopeFields.CreatedAt, "1763769600000"],
                referenceCount,
                cancellationToken), RedisBenchmarkLoad);
            await run.ExpectLengthAsync(referenceKey, referenceCount, "redis-benchmark (envelope)");
            await run.DeleteAsync(referenceKey);
            Progress($"  redis-benchmark (envelope): {rbEnvelope.Result.RequestsPerSecond:N0} XADD/s");
            Progress($"    {rbEnvelope.Usage}");

            // 2. Warm-up: the whole publish and consume path (JIT, tiering, pools, connections), in a queue of its own,
            // repeated until the JIT has (nearly) nothing left to compile: a long-running producer or worker runs
            // tier-1 code, and background tiering competes for the two cores.
            long warmupMessages = 0;
            for (var round = 1; ; round++)
            {
                var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
                var clock = Stopwatch.StartNew();
                await run.ThroughputAsync(WarmupQueue, WarmupMessages, quiet: true);
                await Task.Delay(WarmupPause, cancellationToken);   // lets queued background compilations finish
                var compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore;
                Progress($"warm-up {round}: published and processed {WarmupMessages:N0} messages in {WarmupQueue} in {clock.Elapsed.TotalSeconds:F1} s; the JIT compiled {compiled} methods meanwhile");
                warmupMessages += WarmupMessages;
                if (compiled <= WarmupSettledMethods || round == WarmupMaxRounds)
                {
                    break;
                }
            }

            // 3 and 4. Publish, then process, the measured messages.
            var throughput = await run.ThroughputAsync(ThroughputQueue, settings.Count, quiet: false);
            var (publishRate, processRate) = (throughput.Publish, throughput.Process);

            // 5. Latency at a steady rate with a consumer waiting (blocking reads).
            var latency = await run.LatencyAsync();

            var redisRate = rb.Result.RequestsPerSecond;
            var result = new E2eResult(
                PublishPerSecond: (long)Math.Round(publishRate),
                ProcessPerSecond: (long)Math.Round(processRate),
                LatencyP50Milliseconds: Math.Round(latency.P50, 3),
                LatencyP99Milliseconds: Math.Round(latency.P99, 3),
                RedisBenchmarkXaddPerSecond: (long)Math.Round(redisRate),
                PublishRatio: Math.Round(publishRate / redisRate, 3),
                ProcessRatio: Math.Round(processRate / redisRate, 3),
                LatencyP999Milliseconds: Math.Round(latency.P999, 3),
                LatencyMaxMilliseconds: Math.Round(latency.Max, 3),
                LatencySamples: latency.Samples,
                LatencyRatePerSecond: Math.Round(latency.AchievedRate, 1),
                RedisBenchmarkEnvelopeXaddPerSecond: (long)Math.Round(rbEnvelope.Result.RequestsPerSecond),
                Count: settings.Count,
                Publishers: settings.Publishers,
                PublishBatch: settings.PublishBatch,
                Concurrency: settings.Concurrency,
                MaxInFlight: settings.MaxInFlight,
                FetchCount: settings.FetchCount,
                OtherLoadPublish: Cores(throughput.PublishOtherLoad),
                OtherLoadProcess: Cores(throughput.ProcessOtherLoad),
                OtherLoadLatency: Cores(latency.OtherLoad),
                WarmupMessages: warmupMessages);
            Progress($"done in {total.Elapsed.TotalSeconds:F1} s: publish {result.PublishRatio:F3} of redis-benchmark (target >= 0.5), " +
                $"process {result.ProcessRatio:F3} (target >= 0.25), latency p99 {result.LatencyP99Milliseconds:F3} ms (target <= 5)");
            Console.Out.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }
        finally
        {
            await run.DeleteNamespaceAsync();
        }
    }

    private static void Progress(string message) => BenchRedis.Progress(Name, message);

    /// <summary>One run's shared state: the server, the namespace, the settings and the control connection.</summary>
    private sealed class Run(RedisEndpoint endpoint, string prefix, Settings settings, IRedisClient control, int? serverPid, AllocationSampler? sampler, CancellationToken cancellationToken)
    {
        /// <summary>
        /// Runs one phase and describes where its time went: CPU, allocations, server I/O and the commands
        /// the server ran (server-wide counters). Warns when other work (beyond <paramref name="expectedOtherLoad"/>
        /// cores, e.g. redis-benchmark itself) shared the machine, or another client the server.
        /// </summary>
        public async Task<(T Result, string Usage, double? OtherLoad)> MeasureAsync<T>(long ops, Func<Task<T>> phase, double expectedOtherLoad = 0)
        {
            var meter = new PhaseMeter(serverPid);
            var io = await ServerIo.ReadAsync(control, cancellationToken);
            var commands = await CommandStats.ReadAsync(control, cancellationToken);
            sampler?.Start();
            var result = await phase();
            var allocations = sampler?.Stop(ops);
            var otherLoad = meter.RestOfMachine();
            var usage = meter.Describe(ops) + await io.DescribeSinceAsync(control, cancellationToken);
            var after = await CommandStats.ReadAsync(control, cancellationToken);
            usage += "\n      server commands: " + after.DescribeSince(commands);
            if (after.DescribeForeignSince(commands, ops, MessagePathCommands) is { } foreign)
            {
                usage += $"\n      WARNING: the server also ran commands this phase does not send ({foreign}): another client shared it; server figures are not this run's alone";
            }

            if (otherLoad > expectedOtherLoad + OtherLoadWarning)
            {
                usage += string.Create(CultureInfo.InvariantCulture, $"\n      WARNING: other work used {otherLoad:F2} cores of the machine during this phase; its figures are low and noisy");
            }

            return (result, allocations is null ? usage : usage + "\n      " + allocations, otherLoad);
        }

        /// <summary>Publishes <paramref name="count"/> messages to <paramref name="queue"/>, then processes them; returns both rates.</summary>
        public async Task<ThroughputResult> ThroughputAsync(string queue, long count, bool quiet)
        {
            var stream = new QueueKeys(prefix, queue, 1).Stream(0);
            var payload = new byte[PayloadSize];
            Array.Fill(payload, (byte)'p');

            // Publish: a producer process with no consumers (the Millrace hosted service still starts: it checks Redis).
            double publishRate;
            double? publishOtherLoad, processOtherLoad;
            await using (var producer = BuildMillrace(b => b.AddQueue(queue)))
            {
                await StartAsync(producer);
                var publisher = producer.GetRequiredService<IMessagePublisher>();
                if (!quiet)
                {
                    Progress($"publish: {settings.Publishers} callers x PublishBatchAsync({settings.PublishBatch} messages) to {stream}, {count:N0} messages, no consumer running");
                }

                (publishRate, var usage, publishOtherLoad) = await MeasureAsync(count, () => PublishAllAsync(publisher, queue, count, payload));
                await ExpectLengthAsync(stream, count, "publish phase");
                if (!quiet)
                {
                    Progress($"  publish: {publishRate:N0} messages/s ({count / publishRate:F2} s)");
                    Progress($"    {usage}");
                }

                await StopAsync(producer);
            }

            // Process: a consumer process whose group starts at the beginning of the full stream.
            var handled = new ProgressCounter(count, StallTimeout);
            double processRate;
            await using (var consumer = BuildMillrace(b => b
                .AddQueue(queue)
                .AddConsumer(queue, c =>
                {
                    c.Group = Group;
                    c.StartPosition = StartPosition.Earliest;
                    c.Concurrency = settings.Concurrency;
                    c.MaxInFlight = settings.MaxInFlight;
                    c.FetchCount = settings.FetchCount;
                })
                .AddHandler(MessageType, (context, token) =>
                {
                    handled.Increment();
                    return Task.CompletedTask;
                })))
            {
                // Connect before the clock starts (a consumer process is connected long before the backlog matters).
                await consumer.GetRequiredService<IRedisClient>().ExecuteAsync(new RedisCommand("PING", []), cancellationToken);
                if (!quiet)
                {
                    Progress($"process: consumer group '{Group}' from the start of {stream} (Concurrency {settings.Concurrency}, MaxInFlight {settings.MaxInFlight}, FetchCount {settings.FetchCount}), no-op handler, until {count:N0} handled and XPENDING is 0");
                }

                (var times, var usage, processOtherLoad) = await MeasureAsync(count, async () =>
                {
                    var clock = Stopwatch.StartNew();
                    await StartAsync(consumer);
                    var started = clock.Elapsed;
                    await handled.WaitForAsync(count, "messages handled", cancellationToken);
                    var handledAt = clock.Elapsed;
                    await WaitForAckedAsync(stream, count);
                    return (Started: started, Handled: handledAt, Acknowledged: clock.Elapsed);
                });
                processRate = count / times.Acknowledged.TotalSeconds;

                await StopAsync(consumer);
                var group = (await control.XInfoGroupsAsync(stream, cancellationToken)).Single(g => g.Name == Group);
                if (handled.Value != count || group.Pending != 0 || (group.EntriesRead is { } read && read != count))
                {
                    throw new BenchException(
                        $"after the process phase {handled.Value:N0} messages were handled (expected {count:N0}), the group has {group.Pending:N0} pending and read {group.EntriesRead:N0}: the run did not do what it claims.");
                }

                if (!quiet)
                {
                    Progress($"  process: {processRate:N0} messages/s ({times.Acknowledged.TotalSeconds:F2} s: consumer started in {times.Started.TotalMilliseconds:F0} ms, " +
                        $"all handled at {times.Handled.TotalSeconds:F2} s, all acknowledged {(times.Acknowledged - times.Handled).TotalMilliseconds:F0} ms later)");
                    Progress($"    {usage}");
                }
            }

            await DeleteNamespaceAsync();
            return new ThroughputResult(publishRate, processRate, publishOtherLoad, processOtherLoad);
        }

        /// <summary>
        /// Publishes at <see cref="Settings.Rate"/> per second, one PublishAsync per message, into a queue a
        /// consumer is waiting on; each handler records how long after its publish call it started.
        /// </summary>
        public async Task<LatencyResult> LatencyAsync()
        {
            var count = settings.Rate * settings.LatencySeconds;
            var warmup = settings.Rate;   // the first second
            var latencies = new long[count];
            Array.Fill(latencies, -1);
            var handled = new ProgressCounter(count, StallTimeout);
            await using var app = BuildMillrace(b => b
                .AddQueue(LatencyQueue)
                .AddConsumer(LatencyQueue, c =>
                {
                    c.Group = Group;
                    c.Concurrency = settings.Concurrency;
                    c.MaxInFlight = settings.MaxInFlight;
                    c.FetchCount = settings.FetchCount;
                })
                .AddHandler(MessageType, (context, token) =>
                {
                    // Same process, same clock: the publish moment travels in the payload, with the sequence number.
                    var now = Stopwatch.GetTimestamp();
                    var payload = context.Message.Payload.Span;
                    var sequence = BinaryPrimitives.ReadInt32LittleEndian(payload[8..]);
                    latencies[sequence] = now - BinaryPrimitives.ReadInt64LittleEndian(payload);
                    handled.Increment();
                    return Task.CompletedTask;
                }));
            await StartAsync(app);
            var publisher = app.GetRequiredService<IMessagePublisher>();
            await Task.Delay(200, cancellationToken);   // the fetch loop is now blocked in XREADGROUP

            Progress($"latency: {settings.Rate:N0} PublishAsync/s for {settings.LatencySeconds} s into {new QueueKeys(prefix, LatencyQueue, 1).Stream(0)} with the consumer waiting; the first second is warm-up");
            var ((acks, lateness, elapsed), usage, otherLoad) = await MeasureAsync(count, () => PublishPacedAsync(publisher, count));
            await handled.WaitForAsync(count, "latency messages handled", cancellationToken);
            await StopAsync(app);

            var measured = latencies[warmup..];
            if (measured.Any(l => l < 0) || handled.Value != count)
            {
                throw new BenchException($"latency phase: {handled.Value:N0} of {count:N0} messages handled, {measured.Count(l => l < 0)} measured ones missing.");
            }

            Array.Sort(measured);
            double Ms(ReadOnlySpan<long> sorted, double p) => Percentiles.TicksToMicroseconds(Percentiles.NearestRank(sorted, p)) / 1000;
            var result = new LatencyResult(Ms(measured, 50), Ms(measured, 99), Ms(measured, 99.9), Ms(measured, 100), measured.Length, (count - 1) / elapsed.TotalSeconds, otherLoad);
            var over = measured.Count(l => Percentiles.TicksToMicroseconds(l) > 5000);
            Array.Sort(acks);
            Array.Sort(lateness);
            Progress($"  latency, publish call to handler start ({measured.Length:N0} messages after the warm-up second): p50 {result.P50:F3} ms, p90 {Ms(measured, 90):F3} ms, " +
                $"p99 {result.P99:F3} ms, p99.9 {result.P999:F3} ms, max {result.Max:F3} ms; {over} over 5 ms");
            Progress($"    publish round trip (PublishAsync call to completion): p50 {Ms(acks, 50):F3} ms, p99 {Ms(acks, 99):F3} ms; " +
                $"pacing: {result.AchievedRate:F1} messages/s achieved, publish moment behind schedule p50 {Ms(lateness, 50):F3} ms, p99 {Ms(lateness, 99):F3} ms, max {Ms(lateness, 100):F3} ms");
            Progress($"    {usage}");
            await DeleteNamespaceAsync();
            return result;
        }

        /// <summary>
        /// An open-loop schedule: message i is due at i / rate seconds. A dedicated thread wakes about every
        /// millisecond (Thread.Sleep(1): 1.07 ms here; PeriodicTimer and Task.Delay tick only every ~4.3 ms on
        /// this kernel, which would send bursts of four) and starts every message that is due. Calls are not
        /// awaited one by one: a slow publish never delays the next one's start.
        /// </summary>
        private async Task<(long[] Acks, long[] Lateness, TimeSpan Elapsed)> PublishPacedAsync(IMessagePublisher publisher, int count)
        {
            var publishes = new Task<long>[count];
            var lateness = new long[count];
            var ticksPerMessage = (double)Stopwatch.Frequency / settings.Rate;
            long first = 0, last = 0;
            var paced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var pacer = new Thread(() =>
            {
                try
                {
                    var start = Stopwatch.GetTimestamp();
                    for (var next = 0; next < count;)
                    {
                        var due = Math.Min(count, (long)((Stopwatch.GetTimestamp() - start) / ticksPerMessage) + 1);
                        for (; next < due; next++)
                        {
                            var payload = new byte[PayloadSize];
                            var moment = Stopwatch.GetTimestamp();
                            BinaryPrimitives.WriteInt64LittleEndian(payload, moment);
                            BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(8), next);
                            lateness[next] = Math.Max(0, moment - (start + (long)(next * ticksPerMessage)));
                            publishes[next] = TimedPublishAsync(publisher, new OutgoingMessage { Queue = LatencyQueue, Type = MessageType, Payload = payload }, moment);
                            (first, last) = (next == 0 ? moment : first, moment);
                        }

                        if (next < count)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                            Thread.Sleep(1);
                        }
                    }

                    paced.SetResult();
                }
                catch (Exception e)
                {
                    paced.SetException(e);
                }
            })
            {
                IsBackground = true,
                Name = "e2e pacer",
            };
            pacer.Start();
            await paced.Task;

            var acks = await Task.WhenAll(publishes);
            return (acks, lateness[settings.Rate..], Stopwatch.GetElapsedTime(first, last));

            static async Task<long> TimedPublishAsync(IMessagePublisher publisher, OutgoingMessage message, long moment)
            {
                await publisher.PublishAsync(message, OpToken);
                return Stopwatch.GetTimestamp() - moment;
            }
        }

        /// <summary><see cref="Settings.Publishers"/> callers, each publishing batches of <see cref="Settings.PublishBatch"/>; returns messages per second.</summary>
        private async Task<double> PublishAllAsync(IMessagePublisher publisher, string queue, long count, ReadOnlyMemory<byte> payload)
        {
            var callers = new Task[settings.Publishers];
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < callers.Length; i++)
            {
                callers[i] = CallerAsync((count / callers.Length) + (i < count % callers.Length ? 1 : 0));
            }

            await Task.WhenAll(callers);
            return count / clock.Elapsed.TotalSeconds;

            async Task CallerAsync(long messages)
            {
                while (messages > 0)
                {
                    // A fresh batch per call, as a producer builds them; the payload bytes are shared (never changed).
                    var batch = new OutgoingMessage[(int)Math.Min(settings.PublishBatch, messages)];
                    for (var i = 0; i < batch.Length; i++)
                    {
                        batch[i] = new OutgoingMessage { Queue = queue, Type = MessageType, Payload = payload };
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    var results = await publisher.PublishBatchAsync(batch, OpToken);
                    if (results.Count != batch.Length || results.Any(r => r.StreamId is null))
                    {
                        throw new BenchException($"PublishBatchAsync of {batch.Length} returned {results.Count} results, {results.Count(r => r.StreamId is null)} without a stream id.");
                    }

                    messages -= batch.Length;
                }
            }
        }

        /// <summary>
        /// Polls XPENDING back to back (one round trip each, about 50 us) until nothing of the group is
        /// pending: everything handled has been acknowledged. Called once every message was handled, so it
        /// only spans the last acknowledgements' way to Redis.
        /// </summary>
        private async Task WaitForAckedAsync(string stream, long count)
        {
            var since = Stopwatch.GetTimestamp();
            for (var pending = long.MaxValue; pending > 0;)
            {
                pending = (await control.XPendingSummaryAsync(stream, Group, cancellationToken)).Count;
                if (pending > 0 && Stopwatch.GetElapsedTime(since) > StallTimeout)
                {
                    throw new BenchException($"stuck: all {count:N0} messages were handled but {pending:N0} are still pending after {StallTimeout.TotalSeconds:F0} s.");
                }
            }
        }

        private ServiceProvider BuildMillrace(Action<MillraceBuilder> configure) => BenchMillrace.Build(endpoint, prefix, configure);

        private Task StartAsync(IServiceProvider services) => BenchMillrace.StartAsync(services, cancellationToken);

        private static Task StopAsync(IServiceProvider services) => BenchMillrace.StopAsync(services);

        public async Task ExpectLengthAsync(string key, long expected, string what)
        {
            var length = await control.XLenAsync(key, cancellationToken);
            if (length != expected)
            {
                throw new BenchException($"after the {what} the stream {key} has {length:N0} entries, not {expected:N0}: the run did not do what it claims.");
            }
        }

        public Task DeleteAsync(string key) => control.ExecuteAsync(new RedisCommand("DEL", [key], 0), cancellationToken);

        /// <summary>Deletes every key of this run.</summary>
        public Task DeleteNamespaceAsync() => BenchKeys.DeleteNamespaceAsync(control, prefix);
    }


    private sealed record LatencyResult(double P50, double P99, double P999, double Max, int Samples, double AchievedRate, double? OtherLoad);

    private sealed record ThroughputResult(double Publish, double Process, double? PublishOtherLoad, double? ProcessOtherLoad);

    /// <summary>The JSON line printed last on stdout.</summary>
    private sealed record E2eResult(
        [property: JsonPropertyName("publish_per_s")] long PublishPerSecond,
        [property: JsonPropertyName("process_per_s")] long ProcessPerSecond,
        [property: JsonPropertyName("e2e_latency_ms_p50")] double LatencyP50Milliseconds,
        [property: JsonPropertyName("e2e_latency_ms_p99")] double LatencyP99Milliseconds,
        [property: JsonPropertyName("redis_benchmark_xadd_per_s")] long RedisBenchmarkXaddPerSecond,
        [property: JsonPropertyName("publish_ratio")] double PublishRatio,
        [property: JsonPropertyName("process_ratio")] double ProcessRatio,
        [property: JsonPropertyName("e2e_latency_ms_p999")] double LatencyP999Milliseconds,
        [property: JsonPropertyName("e2e_latency_ms_max")] double LatencyMaxMilliseconds,
        [property: JsonPropertyName("latency_samples")] int LatencySamples,
        [property: JsonPropertyName("latency_rate_per_s")] double LatencyRatePerSecond,
        [property: JsonPropertyName("redis_benchmark_envelope_xadd_per_s")] long RedisBenchmarkEnvelopeXaddPerSecond,
        [property: JsonPropertyName("count")] long Count,
        [property: JsonPropertyName("publishers")] int Publishers,
        [property: JsonPropertyName("publish_batch")] int PublishBatch,
        [property: JsonPropertyName("consumer_concurrency")] int Concurrency,
        [property: JsonPropertyName("consumer_max_in_flight")] int MaxInFlight,
        [property: JsonPropertyName("consumer_fetch_count")] int FetchCount,
        [property: JsonPropertyName("other_load_cores_publish")] double? OtherLoadPublish,
        [property: JsonPropertyName("other_load_cores_process")] double? OtherLoadProcess,
        [property: JsonPropertyName("other_load_cores_latency")] double? OtherLoadLatency,
        [property: JsonPropertyName("warmup_messages")] long WarmupMessages);

    private static double? Cores(double? load) => load is { } l ? Math.Round(l, 2) : null;
}
