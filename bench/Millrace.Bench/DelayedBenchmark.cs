using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Millrace.Redis;

namespace Millrace.Bench;

/// <summary>
/// <c>delayed</c>: delayed messages on one Redis. Lateness: messages due 1 ms apart (1,000 due per
/// second) for ~10 s, published ahead of time, with one consumer (and so one promoter) running; each
/// handler records how long after its due time it started. Promotion throughput: N messages that are
/// all already due wait in the delayed set, then promoters are started and timed until the stream
/// holds all N. See docs/benchmarks.md.
/// </summary>
internal static class DelayedBenchmark
{
    public const string Usage =
        """
          --address host:port   Redis to use (default: start the bench Redis with deploy/redis/topology.sh, 127.0.0.1:6395)
          --rate N              lateness phase: messages due per second, due times evenly spaced (default 1000: 1 ms apart)
          --latency-seconds N   lateness phase: seconds of due times; the first is dropped as warm-up (default 11)
          --lead-ms N           lateness phase: each batch is published this long before its first message is due (default 1000)
          --publish-batch N     lateness phase: messages per PublishBatchAsync (default 100)
          --count N             promotion phase: messages scheduled, all already due, then promoted (default 200000)
          --promoters N         promotion phase: promoters racing on the partition, each on its own connection (default 1)
        """;

    private const string Name = "delayed";
    private const string MessageType = "noop";
    private const string Group = "bench";
    private const string LatenessQueue = "bench.delayed";
    private const string PromoteQueue = "bench.promote";
    private const string WarmupQueue = "bench.promote-warmup";
    private const int PayloadSize = 100;
    private const int WarmupCount = 20_000;
    private const int ScheduleCallers = 4;
    private const int ScheduleBatch = 500;

    /// <summary>No progress for this long in a wait means the run is stuck: fail, saying what was seen.</summary>
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(30);

    private sealed record Settings(int Rate, int LatencySeconds, int LeadMs, int PublishBatch, long Count, int Promoters);

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken cancellationToken)
    {
        var address = args.GetString("--address");
        var settings = new Settings(
            Rate: (int)args.GetInt64("--rate", 1000, max: 100_000),
            LatencySeconds: (int)args.GetInt64("--latency-seconds", 11, min: 2, max: 3600),
            LeadMs: (int)args.GetInt64("--lead-ms", 1000, min: 0, max: 600_000),
            PublishBatch: (int)args.GetInt64("--publish-batch", 100, max: 100_000),
            Count: args.GetInt64("--count", 200_000, max: 100_000_000),
            Promoters: (int)args.GetInt64("--promoters", 1, max: 1000));
        args.EnsureAllUsed();

        var endpoint = await BenchRedis.ResolveAsync(address, cancellationToken);

        var total = Stopwatch.StartNew();
        var prefix = $"millrace-bench-delayed:{Environment.ProcessId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
        Progress($"server {endpoint}, key prefix {prefix}, {Environment.ProcessorCount} cores, runtime {Environment.Version}");
        Progress($"settings: lateness at {settings.Rate:N0} due/s for {settings.LatencySeconds} s (first second dropped), batches of {settings.PublishBatch} published {settings.LeadMs} ms ahead; " +
            $"promotion of {settings.Count:N0} due messages by {settings.Promoters} promoter(s); {PayloadSize}-byte payloads");
        if (await PhaseMeter.MachineBusyAsync(TimeSpan.FromSeconds(1), cancellationToken) is { } busy)
        {
            Progress(busy > 0.25
                ? $"WARNING: the machine was already {busy:P0} of one core busy before the run; the figures will be low and noisy"
                : $"machine idle before the run ({busy:P0} of one core busy)");
        }

        Progress(await ClockReportAsync(cancellationToken));
        await using var control = await RedisClient.ConnectAsync(RedisOptions.Parse(endpoint.ToString()), cancellationToken);
        var serverPid = await LocalServerPidAsync(control, endpoint, cancellationToken);
        var clients = (await control.ExecuteAsync(new RedisCommand("INFO", ["clients"]), cancellationToken)).AsString()?
            .Split('\n').FirstOrDefault(l => l.StartsWith("connected_clients:", StringComparison.Ordinal))?.Trim();
        Progress($"redis-server {(serverPid is null ? "not on this machine (its CPU is not shown)" : $"pid {serverPid}")}; before the run {clients ?? "connected_clients unknown"} (this one included)");
        var run = new Run(endpoint, prefix, settings, control, serverPid, cancellationToken);
        try
        {
            // 1. Warm-up: scheduling and promotion (JIT, script cache, connections), in a queue of its own.
            var warmup = await run.PromotionAsync(WarmupQueue, WarmupCount, settings.Promoters, quiet: true);
            Progress($"warm-up: scheduled and promoted {WarmupCount:N0} messages in {WarmupQueue} ({warmup.PromotedPerSecond:N0}/s)");

            // 2. Lateness at a steady due rate with one consumer running.
            var lateness = await run.LatenessAsync();

            // 3. Promotion throughput.
            var promotion = await run.PromotionAsync(PromoteQueue, settings.Count, settings.Promoters, quiet: false);

            var result = new DelayedResult(
                PromotedPerSecond: (long)Math.Round(promotion.PromotedPerSecond),
                LatenessP50Milliseconds: Math.Round(lateness.P50, 3),
                LatenessP99Milliseconds: Math.Round(lateness.P99, 3),
                LatenessP999Milliseconds: Math.Round(lateness.P999, 3),
                LatenessMaxMilliseconds: Math.Round(lateness.Max, 3),
                LatenessMinMilliseconds: Math.Round(lateness.Min, 3),
                LatenessSamples: lateness.Samples,
                Early: lateness.Early,
                PromotionLatenessP50Milliseconds: lateness.PromotionP50,
                PromotionLatenessP99Milliseconds: lateness.PromotionP99,
                DueRatePerSecond: settings.Rate,
                PromotionCount: settings.Count,
                Promoters: settings.Promoters,
                ScheduledPerSecond: (long)Math.Round(promotion.ScheduledPerSecond),
                PromoteServerMicrosecondsPerMessage: Math.Round(promotion.ServerMicrosecondsPerMessage, 3),
                PromoteCalls: promotion.Calls,
                OtherLoadCores: Math.Round(Math.Max(lateness.OtherLoad, promotion.OtherLoad), 2));
            Progress($"done in {total.Elapsed.TotalSeconds:F1} s: lateness p99 {result.LatenessP99Milliseconds:F3} ms (target <= 50), promoted {result.PromotedPerSecond:N0}/s");
            Console.Out.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }
        finally
        {
            await run.DeleteNamespaceAsync();
        }
    }

    private static void Progress(string message) => BenchRedis.Progress(Name, message);

    /// <summary>
    /// What the lateness figures rest on: the wall clock's resolution (consecutive distinct readings of
    /// DateTime.UtcNow) and how late a 1 ms timer fires here, the floor of the promoter's sleep.
    /// </summary>
    private static async Task<string> ClockReportAsync(CancellationToken cancellationToken)
    {
        var steps = new List<long>();
        var last = DateTime.UtcNow.Ticks;
        while (steps.Count < 1000)
        {
            var now = DateTime.UtcNow.Ticks;
            if (now != last)
            {
                steps.Add(now - last);
                last = now;
            }
        }

        steps.Sort();
        var delays = new long[50];
        for (var i = 0; i < delays.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await Task.Delay(1, cancellationToken);
            delays[i] = Stopwatch.GetTimestamp() - start;
        }

        Array.Sort(delays);
        return string.Create(CultureInfo.InvariantCulture,
            $"clocks: DateTime.UtcNow advances in steps of {steps[steps.Count / 2] * 100} ns (median); Task.Delay(1) takes {Percentiles.TicksToMicroseconds(delays[delays.Length / 2]) / 1000:F2} ms (median), " +
            $"{Percentiles.TicksToMicroseconds(delays[^1]) / 1000:F2} ms (max)");
    }

    private sealed record LatenessResult(double P50, double P99, double P999, double Max, double Min, int Samples, int Early, long PromotionP50, long PromotionP99, double OtherLoad);

    private sealed record PromotionResult(double PromotedPerSecond, double ScheduledPerSecond, double ServerMicrosecondsPerMessage, long Calls, double OtherLoad);

    /// <summary>The server's pid when it runs on this machine (INFO process_id is a redis process here), else null.</summary>
    private static async Task<int?> LocalServerPidAsync(IRedisClient redis, RedisEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (endpoint.Host is not ("127.0.0.1" or "localhost" or "::1"))
        {
            return null;
        }

        var info = (await redis.ExecuteAsync(new RedisCommand("INFO", ["server"]), cancellationToken)).AsString() ?? "";
        var line = info.Split('\n').FirstOrDefault(l => l.StartsWith("process_id:", StringComparison.Ordinal));
        return line is not null && int.TryParse(line.AsSpan("process_id:".Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            && File.Exists($"/proc/{pid}/comm") && File.ReadAllText($"/proc/{pid}/comm").Contains("redis", StringComparison.Ordinal)
            ? pid
            : null;
    }

    /// <summary>
    /// CPU use during a phase, in cores: this process, the Redis server, and the rest of the machine
    /// (other work, which makes the figures noisy: on 2 cores anything else competes with the promoter's
    /// timer, the consumer and the server). From /proc (<see cref="PhaseMeter"/>'s readers).
    /// </summary>
    private sealed class Load(int? serverPid)
    {
        private readonly long _start = Stopwatch.GetTimestamp();
        private readonly TimeSpan _self = Process.GetCurrentProcess().TotalProcessorTime;
        private readonly TimeSpan? _server = PhaseMeter.ProcessCpu(serverPid);
        private readonly TimeSpan? _machine = PhaseMeter.MachineBusyCpu();

        public (double Self, double? Server, double? Other) Measure()
        {
            var wall = Stopwatch.GetElapsedTime(_start);
            var self = Process.GetCurrentProcess().TotalProcessorTime - _self;
            var server = PhaseMeter.ProcessCpu(serverPid) - _server;
            var other = PhaseMeter.MachineBusyCpu() - _machine - self - (server ?? TimeSpan.Zero);
            return (self / wall, server / wall, other is { } o ? Math.Max(0, o / wall) : null);
        }

        public static string Describe((double Self, double? Server, double? Other) load) =>
            string.Create(CultureInfo.InvariantCulture, $"CPU in cores: this process {load.Self:F2}, redis-server {(load.Server is { } s ? s.ToString("F2", CultureInfo.InvariantCulture) : "?")}, ") +
            (load.Other is { } other
                ? string.Create(CultureInfo.InvariantCulture, $"rest of the machine {other:F2}{(other > 0.25 ? " -- WARNING: something else ran; the figures are noisy" : "")}")
                : "rest of the machine ?");
    }

    /// <summary>One run's shared state: the server, the namespace, the settings and the control connection.</summary>
    private sealed class Run(RedisEndpoint endpoint, string prefix, Settings settings, IRedisClient control, int? serverPid, CancellationToken cancellationToken)
    {
        /// <summary>
        /// Message i is due at T0 + floor(i × 1000 / rate) ms. Batches are published <see cref="Settings.LeadMs"/>
        /// before their first message is due, into a queue one consumer is working. The handler takes
        /// DateTime.UtcNow first thing and subtracts Message.DeliverAt: both are this machine's wall clock
        /// (Redis decides "due" with TIME, the same clock), read at 100 ns resolution.
        /// </summary>
        public async Task<LatenessResult> LatenessAsync()
        {
            var count = settings.Rate * settings.LatencySeconds;
            var warmup = settings.Rate;   // the first second
            var lateness = new long[count];            // 100 ns ticks: handler start - due
            var promotedAfter = new long[count];       // ms: stream entry id time - due (when the promoter moved it)
            var seen = new int[count];
            var wrongDue = 0;
            var handled = new ProgressCounter(count, StallTimeout);
            var t0 = 0L;
            long DueMs(int i) => t0 + (long)(i * 1000.0 / settings.Rate);

            await using var app = BuildMillrace(b => b
                .AddQueue(LatenessQueue)
                .AddConsumer(LatenessQueue, c => c.Group = Group)
                .AddHandler(MessageType, (context, _) =>
                {
                    var now = DateTime.UtcNow.Ticks;
                    var message = context.Message;
                    var sequence = BinaryPrimitives.ReadInt32LittleEndian(message.Payload.Span);
                    var due = message.DeliverAt ?? DateTimeOffset.MinValue;
                    if (due.ToUnixTimeMilliseconds() != DueMs(sequence))
                    {
                        Interlocked.Increment(ref wrongDue);
                    }

                    lateness[sequence] = now - due.UtcTicks;
                    promotedAfter[sequence] = message.EnqueuedAt.ToUnixTimeMilliseconds() - due.ToUnixTimeMilliseconds();
                    if (Interlocked.Increment(ref seen[sequence]) == 1)
                    {
                        handled.Increment();
                    }

                    return Task.CompletedTask;
                }));
            await StartAsync(app);
            var publisher = app.GetRequiredService<IMessagePublisher>();
            var keys = new QueueKeys(prefix, LatenessQueue, 1);

            // The first batch goes out right away; every message is due at least lead + 200 ms from now.
            t0 = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + settings.LeadMs + 200;
            Progress($"lateness: {count:N0} messages due {1000.0 / settings.Rate:0.###} ms apart from {DateTimeOffset.FromUnixTimeMilliseconds(t0):HH:mm:ss.fff} UTC, " +
                $"PublishBatchAsync({settings.PublishBatch}) {settings.LeadMs} ms ahead, one consumer on {keys.Stream(0)}; the first second is warm-up");
            var clockStart = (Wall: DateTime.UtcNow.Ticks, Stopwatch: Stopwatch.GetTimestamp());
            var load = new Load(serverPid);
            var leastLead = long.MaxValue;
            var lateBatches = 0;
            var payload = new byte[PayloadSize];
            for (var start = 0; start < count; start += settings.PublishBatch)
            {
                var publishAt = DateTimeOffset.FromUnixTimeMilliseconds(DueMs(start) - settings.LeadMs);
                if (publishAt - DateTimeOffset.UtcNow is { Ticks: > 0 } wait)
                {
                    await Task.Delay(wait, cancellationToken);
                }

                var batch = new OutgoingMessage[Math.Min(settings.PublishBatch, count - start)];
                for (var i = 0; i < batch.Length; i++)
                {
                    var body = (byte[])payload.Clone();
                    BinaryPrimitives.WriteInt32LittleEndian(body, start + i);
                    batch[i] = new OutgoingMessage
                    {
                        Queue = LatenessQueue,
                        Type = MessageType,
                        Payload = body,
                        DeliverAt = DateTimeOffset.FromUnixTimeMilliseconds(DueMs(start + i)),
                    };
                }

                await publisher.PublishBatchAsync(batch, CancellationToken.None);
                var lead = DueMs(start) - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                leastLead = Math.Min(leastLead, lead);
                lateBatches += lead < 0 ? 1 : 0;
            }

            await handled.WaitForAsync(count, "delayed messages handled", cancellationToken);
            var clockEnd = (Wall: DateTime.UtcNow.Ticks, Stopwatch: Stopwatch.GetTimestamp());
            var used = load.Measure();
            await StopAsync(app);

            var duplicates = seen.Count(n => n > 1);
            if (handled.Value != count || duplicates > 0 || wrongDue > 0)
            {
                throw new BenchException($"lateness phase: {handled.Value:N0} of {count:N0} messages handled, {duplicates} more than once, {wrongDue} with a DeliverAt other than the one published.");
            }

            var stream = await control.XLenAsync(keys.Stream(0), cancellationToken);
            var left = await control.ZCardAsync(keys.Delayed(0), cancellationToken);
            if (stream != count || left != 0)
            {
                throw new BenchException($"lateness phase: the stream has {stream:N0} entries (expected {count:N0}) and {left:N0} messages are still delayed.");
            }

            var measured = lateness[warmup..];
            var promoted = promotedAfter[warmup..];
            Array.Sort(measured);
            Array.Sort(promoted);
            double Ms(double p) => Percentiles.NearestRank(measured, p) / (double)TimeSpan.TicksPerMillisecond;
            var early = measured.Count(l => l < 0);
            var result = new LatenessResult(Ms(50), Ms(99), Ms(99.9), Ms(100), Ms(0), measured.Length, early,
                Percentiles.NearestRank(promoted, 50), Percentiles.NearestRank(promoted, 99), used.Other ?? 0);
            var drift = (clockEnd.Wall - clockStart.Wall) / 10.0 - Percentiles.TicksToMicroseconds(clockEnd.Stopwatch - clockStart.Stopwatch);
            Progress($"  lateness, handler start - due ({measured.Length:N0} messages after the warm-up second): p50 {result.P50:F3} ms, p90 {Ms(90):F3} ms, " +
                $"p99 {result.P99:F3} ms, p99.9 {result.P999:F3} ms, max {result.Max:F3} ms, min {result.Min:F3} ms; {early} early; " +
                $"{measured.Count(l => l > 50 * TimeSpan.TicksPerMillisecond)} over 50 ms");
            Progress($"    of which promotion (stream entry time - due, whole ms): p50 {result.PromotionP50} ms, p90 {Percentiles.NearestRank(promoted, 90)} ms, " +
                $"p99 {result.PromotionP99} ms, max {promoted[^1]} ms");
            Progress($"    publishing: every batch done at least {leastLead} ms before its first message was due ({lateBatches} batches late); " +
                $"wall clock vs Stopwatch over the phase: {drift:F0} us apart");
            Progress($"    {Load.Describe(used)}");
            await DeleteNamespaceAsync();
            return result;
        }

        /// <summary>
        /// Schedules <paramref name="count"/> messages that are all already due (with no promoter running),
        /// then starts <paramref name="promoters"/> promoters on the partition, each with its own connection,
        /// and times them until XLEN reaches the count.
        /// </summary>
        public async Task<PromotionResult> PromotionAsync(string queue, long count, int promoters, bool quiet)
        {
            var keys = new QueueKeys(prefix, queue, 1);
            double scheduledPerSecond;
            await using (var producer = BuildMillrace(b => b.AddQueue(queue)))
            {
                await StartAsync(producer);
                scheduledPerSecond = await ScheduleDueAsync(producer.GetRequiredService<IMessagePublisher>(), queue, count);
                await StopAsync(producer);
            }

            var delayed = await control.ZCardAsync(keys.Delayed(0), cancellationToken);
            var streamed = await control.XLenAsync(keys.Stream(0), cancellationToken);
            if (delayed != count || streamed != 0)
            {
                throw new BenchException($"after scheduling {count:N0} messages {delayed:N0} are delayed and the stream has {streamed:N0}: the run did not do what it claims.");
            }

            if (!quiet)
            {
                Progress($"promotion: scheduled {count:N0} messages, all already due, at {scheduledPerSecond:N0}/s ({ScheduleCallers} callers x PublishBatchAsync({ScheduleBatch})); " +
                    $"starting {promoters} promoter(s) on {keys.Delayed(0)}");
            }

            // Promoters as consumers run them, each on its own connection (as in separate processes), connected before the clock starts.
            var clients = new List<IRedisClient>();
            using var stop = new CancellationTokenSource();
            var loops = new List<Task>();
            var (callsBefore, usecBefore) = await EvalShaStatsAsync();
            try
            {
                for (var i = 0; i < promoters; i++)
                {
                    var client = await RedisClient.ConnectAsync(RedisOptions.Parse(endpoint.ToString()), cancellationToken);
                    clients.Add(client);
                    await client.ExecuteAsync(new RedisCommand("SCRIPT", ["LOAD", DelayScripts.Promote.Source]), cancellationToken);
                }

                var load = new Load(serverPid);
                var clock = Stopwatch.StartNew();
                foreach (var client in clients)
                {
                    var promoter = new DelayedPromoter(client, keys, NullLogger.Instance, TimeProvider.System);
                    loops.Add(Task.Run(() => promoter.RunAsync(0, stop.Token), CancellationToken.None));
                }

                var (elapsed, roundTrips) = await WaitForLengthAsync(keys.Stream(0), count, clock);
                var used = load.Measure();
                await stop.CancelAsync();
                await Task.WhenAll(loops);
                var (callsAfter, usecAfter) = await EvalShaStatsAsync();

                var length = await control.XLenAsync(keys.Stream(0), cancellationToken);
                delayed = await control.ZCardAsync(keys.Delayed(0), cancellationToken);
                var bodies = await control.HLenAsync(keys.DelayedBodies(0), cancellationToken);
                if (length != count || delayed != 0 || bodies != 0)
                {
                    throw new BenchException($"after promotion the stream has {length:N0} entries (expected {count:N0}), {delayed:N0} are still delayed and {bodies:N0} bodies left.");
                }

                var first = (await control.XRangeAsync(keys.Stream(0), count: 1, cancellationToken: cancellationToken))[0].Id;
                var last = (await control.ExecuteAsync(new RedisCommand("XREVRANGE", [keys.Stream(0), "+", "-", "COUNT", 1], 0), cancellationToken))[0][0].AsString()!;
                var serverSpanMs = Message.TimeOf(last).ToUnixTimeMilliseconds() - Message.TimeOf(first).ToUnixTimeMilliseconds() + 1;
                var result = new PromotionResult(count / elapsed.TotalSeconds, scheduledPerSecond, (usecAfter - usecBefore) / (double)count, callsAfter - callsBefore, used.Other ?? 0);
                if (!quiet)
                {
                    Progress($"  promotion: {result.PromotedPerSecond:N0} messages/s ({elapsed.TotalMilliseconds:F0} ms from starting the promoters to XLEN = {count:N0}; " +
                        $"first to last stream entry {serverSpanMs} ms by the server's clock: {count * 1000.0 / serverSpanMs:N0}/s)");
                    Progress($"    server: {result.Calls:N0} promote script calls, {(usecAfter - usecBefore) / 1000.0:F0} ms inside them, " +
                        $"{result.ServerMicrosecondsPerMessage:F2} us per message ({(usecAfter - usecBefore) / 1000.0 / elapsed.TotalMilliseconds:P0} of the wall time)");
                    Array.Sort(roundTrips);
                    double Ms(double p) => Percentiles.TicksToMicroseconds(Percentiles.NearestRank(roundTrips, p)) / 1000;
                    Progress($"    meanwhile another client's XLEN ({roundTrips.Length:N0}, one a millisecond) took p50 {Ms(50):F3} ms, p99 {Ms(99):F3} ms, max {Ms(100):F3} ms " +
                        $"(a promote call, {count / (double)Math.Max(1, result.Calls):F0} messages on average, holds the server {(usecAfter - usecBefore) / 1000.0 / Math.Max(1, result.Calls):F2} ms)");
                    Progress($"    {Load.Describe(used)}");
                }

                await DeleteNamespaceAsync();
                return result;
            }
            finally
            {
                await stop.CancelAsync();
                await Task.WhenAll(loops);
                foreach (var client in clients)
                {
                    await client.DisposeAsync();
                }
            }
        }

        /// <summary>Publishes <paramref name="count"/> messages due in the past (distinct, increasing due times); returns messages per second.</summary>
        private async Task<double> ScheduleDueAsync(IMessagePublisher publisher, string queue, long count)
        {
            var firstDue = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - count - 60_000;
            var payload = new byte[PayloadSize];
            Array.Fill(payload, (byte)'p');
            var next = -ScheduleBatch;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, ScheduleCallers).Select(async _ =>
            {
                for (long start; (start = Interlocked.Add(ref next, ScheduleBatch)) < count;)
                {
                    var batch = new OutgoingMessage[(int)Math.Min(ScheduleBatch, count - start)];
                    for (var i = 0; i < batch.Length; i++)
                    {
                        batch[i] = new OutgoingMessage { Queue = queue, Type = MessageType, Payload = payload, DeliverAt = DateTimeOffset.FromUnixTimeMilliseconds(firstDue + start + i) };
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    var results = await publisher.PublishBatchAsync(batch, CancellationToken.None);
                    if (results.Any(r => r.DeliverAt is null || r.StreamId is not null))
                    {
                        throw new BenchException("PublishBatchAsync of delayed messages returned a result without DeliverAt or with a stream id.");
                    }
                }
            }));
            return count / clock.Elapsed.TotalSeconds;
        }

        /// <summary>
        /// Polls XLEN from a dedicated thread about every millisecond (Thread.Sleep(1); async timers tick
        /// more coarsely here) until it reaches <paramref name="count"/>; returns the clock's reading then,
        /// and the polls' round trips in Stopwatch ticks: what any other client's command waited meanwhile.
        /// </summary>
        private async Task<(TimeSpan Elapsed, long[] RoundTrips)> WaitForLengthAsync(string stream, long count, Stopwatch clock)
        {
            var done = new TaskCompletionSource<(TimeSpan, long[])>(TaskCreationOptions.RunContinuationsAsynchronously);
            var roundTrips = new List<long>();
            var poller = new Thread(() =>
            {
                try
                {
                    var (seen, since) = (-1L, Stopwatch.GetTimestamp());
                    while (true)
                    {
                        var sent = Stopwatch.GetTimestamp();
                        var length = control.XLenAsync(stream, cancellationToken).GetAwaiter().GetResult();
                        roundTrips.Add(Stopwatch.GetTimestamp() - sent);
                        if (length >= count)
                        {
                            done.SetResult((clock.Elapsed, roundTrips.ToArray()));
                            return;
                        }

                        if (length != seen)
                        {
                            (seen, since) = (length, Stopwatch.GetTimestamp());
                        }
                        else if (Stopwatch.GetElapsedTime(since) > StallTimeout)
                        {
                            throw new BenchException($"stuck: {length:N0} of {count:N0} messages promoted, no progress for {StallTimeout.TotalSeconds:F0} s.");
                        }

                        Thread.Sleep(1);
                    }
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            })
            {
                IsBackground = true,
                Name = "delayed XLEN poller",
            };
            poller.Start();
            return await done.Task;
        }

        /// <summary>The server's EVALSHA counters (INFO commandstats): calls and microseconds spent inside.</summary>
        private async Task<(long Calls, long Usec)> EvalShaStatsAsync()
        {
            var info = (await control.ExecuteAsync(new RedisCommand("INFO", ["commandstats"]), cancellationToken)).AsString() ?? "";
            var line = info.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal));
            long Field(string name) =>
                line?.Split(':', 2)[1].Split(',').Select(p => p.Split('=', 2)).FirstOrDefault(p => p[0] == name) is { } pair
                && long.TryParse(pair[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
            return (Field("calls"), Field("usec"));
        }

        private ServiceProvider BuildMillrace(Action<MillraceBuilder> configure) => BenchMillrace.Build(endpoint, prefix, configure);

        private Task StartAsync(IServiceProvider services) => BenchMillrace.StartAsync(services, cancellationToken);

        private static Task StopAsync(IServiceProvider services) => BenchMillrace.StopAsync(services);

        /// <summary>Deletes every key of this run.</summary>
        public Task DeleteNamespaceAsync() => BenchKeys.DeleteNamespaceAsync(control, prefix);
    }


    /// <summary>The JSON line printed last on stdout.</summary>
    private sealed record DelayedResult(
        [property: JsonPropertyName("promoted_per_s")] long PromotedPerSecond,
        [property: JsonPropertyName("lateness_ms_p50")] double LatenessP50Milliseconds,
        [property: JsonPropertyName("lateness_ms_p99")] double LatenessP99Milliseconds,
        [property: JsonPropertyName("lateness_ms_p999")] double LatenessP999Milliseconds,
        [property: JsonPropertyName("lateness_ms_max")] double LatenessMaxMilliseconds,
        [property: JsonPropertyName("lateness_ms_min")] double LatenessMinMilliseconds,
        [property: JsonPropertyName("lateness_samples")] int LatenessSamples,
        [property: JsonPropertyName("early")] int Early,
        [property: JsonPropertyName("promotion_lateness_ms_p50")] long PromotionLatenessP50Milliseconds,
        [property: JsonPropertyName("promotion_lateness_ms_p99")] long PromotionLatenessP99Milliseconds,
        [property: JsonPropertyName("due_rate_per_s")] int DueRatePerSecond,
        [property: JsonPropertyName("promotion_count")] long PromotionCount,
        [property: JsonPropertyName("promoters")] int Promoters,
        [property: JsonPropertyName("scheduled_per_s")] long ScheduledPerSecond,
        [property: JsonPropertyName("promote_server_us_per_message")] double PromoteServerMicrosecondsPerMessage,
        [property: JsonPropertyName("promote_calls")] long PromoteCalls,
        [property: JsonPropertyName("other_load_cores")] double OtherLoadCores);
}
