using System.CommandLine;
using System.Diagnostics;
using Millrace.Cli.Hosting;
using Millrace.Cli.Output;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace bench</c>: a quick throughput run against the configured Redis. Publishes N messages to a
/// fresh queue in batches, then consumes them with one in-process consumer, and prints one JSON object.
/// The queue is terminated afterwards. Compare numbers from one machine and one run only.
/// </summary>
internal static class BenchCommand
{
    private static readonly Option<int> Count = new("--count", "-n") { Description = "Messages to publish and consume.", DefaultValueFactory = _ => 20_000 };

    private static readonly Option<int> Concurrency = new("--concurrency", "-c") { Description = "Consumer concurrency.", DefaultValueFactory = _ => 64 };

    private static readonly Option<int> PayloadBytes = new("--payload-bytes") { Description = "Payload size.", DefaultValueFactory = _ => 100 };

    private static readonly Option<int> Batch = new("--batch") { Description = "Messages per publish round trip.", DefaultValueFactory = _ => 500 };

    private static readonly Option<TimeSpan?> Timeout = new("--timeout")
    {
        Description = "Give up consuming after this long (default 2m).",
        CustomParser = CliParsers.Duration,
    };

    public static Command Create()
    {
        var command = new Command("bench", "Quick publish and consume throughput run on a fresh queue; prints JSON.") { Count, Concurrency, PayloadBytes, Batch, Timeout };
        Count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 10_000_000)
            {
                r.AddError("--count must be between 1 and 10000000.");
            }
        });
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken ct)
    {
        var count = parse.GetValue(Count);
        var batchSize = Math.Max(1, parse.GetValue(Batch));
        var queue = $"bench-{Guid.NewGuid():N}"[..18];
        var payload = new byte[Math.Max(0, parse.GetValue(PayloadBytes))];
        Array.Fill(payload, (byte)'x');
        long consumed = 0;
        var allConsumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await using var host = CliHost.Create(parse, b =>
        {
            b.AddConsumer(queue, c =>
            {
                c.Concurrency = parse.GetValue(Concurrency);
                c.StartPosition = StartPosition.Earliest;
            });
            b.AddHandler("bench", (_, _) =>
            {
                if (Interlocked.Increment(ref consumed) == count)
                {
                    allConsumed.TrySetResult();
                }

                return Task.CompletedTask;
            });
        });

        // Publish first, with nobody consuming, so each rate is measured alone.
        var publishClock = Stopwatch.StartNew();
        var running = new List<Task>();
        for (var start = 0; start < count; start += batchSize)
        {
            var batch = Enumerable.Range(0, Math.Min(batchSize, count - start))
                .Select(_ => new OutgoingMessage { Queue = queue, Type = "bench", Payload = payload }).ToArray();
            running.Add(host.Publisher.PublishBatchAsync(batch, ct));
            if (running.Count >= 4)
            {
                var done = await Task.WhenAny(running).ConfigureAwait(false);
                running.Remove(done);
                await done.ConfigureAwait(false);
            }
        }

        await Task.WhenAll(running).ConfigureAwait(false);
        var publishSeconds = publishClock.Elapsed.TotalSeconds;

        var consumeClock = Stopwatch.StartNew();
        await host.StartAsync(ct).ConfigureAwait(false);
        var limit = parse.GetValue(Timeout) ?? TimeSpan.FromMinutes(2);
        var finished = await Task.WhenAny(allConsumed.Task, Task.Delay(limit, ct)).ConfigureAwait(false);
        var consumeSeconds = consumeClock.Elapsed.TotalSeconds;
        await host.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await host.Admin.TerminateAsync(queue, CancellationToken.None).ConfigureAwait(false);

        var done2 = Interlocked.Read(ref consumed);
        Out.Json(new
        {
            benchmark = "millrace-cli",
            redis = host.Redis.Options.ToString(),
            messages = count,
            payloadBytes = payload.Length,
            publishBatch = batchSize,
            consumerConcurrency = parse.GetValue(Concurrency),
            publishSeconds = Math.Round(publishSeconds, 3),
            publishPerSecond = Math.Round(count / publishSeconds),
            consumed = done2,
            consumeSeconds = Math.Round(consumeSeconds, 3),
            consumePerSecond = Math.Round(done2 / consumeSeconds),
            completed = finished == allConsumed.Task,
        });

        if (finished != allConsumed.Task)
        {
            throw new CliException(ExitCodes.Failed, $"bench: consumed {done2} of {count} within {Out.Duration(limit)}.");
        }

        return ExitCodes.Ok;
    }
}
