using System.Collections.Concurrent;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Failures;

/// <summary>
/// The circuit breaker per message type: it opens after FailureThreshold failures in a row, holds the
/// type's messages through the cool-down without counting attempts, tries one message (half-open),
/// and closes when that succeeds. What operators see comes from MillraceAdmin.CircuitBreakersAsync.
/// </summary>
[Collection(HeavyTests.Name)]   // cool-down windows are measured: not beside the worker processes of the crash test
public sealed class CircuitBreakerTests(ITestOutputHelper output)
{
    private const string Queue = "shipping";
    private const string Type = "label.print";
    private static readonly TimeSpan CoolDown = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task The_circuit_opens_after_3_failures_holds_messages_through_the_cool_down_tries_one_and_closes_on_success()
    {
        // The printer is down for the first 4 runs (3 to open the circuit, then the first half-open trial), then back.
        const int failingRuns = 4;
        var runs = new ConcurrentQueue<Run>();
        var count = 0;
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o =>
            {
                o.CircuitBreakerByType[Type] = new CircuitBreakerOptions { FailureThreshold = 3, CoolDown = CoolDown };
                o.RetryByType[Type] = new RetryPolicy { MaxAttempts = 20, InitialDelay = TimeSpan.FromMilliseconds(100), Multiplier = 1, Jitter = 0 };
            });
            m.AddConsumer(Queue, c => c.Concurrency = 1).AddHandler(Type, (context, _) =>
            {
                var started = DateTimeOffset.UtcNow;
                var fails = Interlocked.Increment(ref count) <= failingRuns;
                runs.Enqueue(new Run(context.Message.Id, context.Message.Attempt, started, DateTimeOffset.UtcNow, fails));
                return fails ? throw new IOException("the label printer is offline") : Task.CompletedTask;
            });
        });
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(host.Prefix, Queue, 1);
        var consumer = Assert.Single(host.Workers.Consumers);

        var first = await host.Publisher.PublishBatchAsync(Enumerable.Range(0, 3).Select(i => Label($"first-{i}")).ToArray());
        var open = await Eventually.GetAsync(() => admin.CircuitBreakersAsync(Queue), r => r.Any(c => c.Type == Type && c.State == CircuitState.Open), TimeSpan.FromSeconds(10),
            "the circuit of label.print reported Open");
        var report = open.Single(c => c.Type == Type);

        // Published while the circuit is open: they must wait for the cool-down too.
        var late = await host.Publisher.PublishBatchAsync(Enumerable.Range(0, 2).Select(i => Label($"late-{i}")).ToArray());
        var ids = first.Concat(late).Select(r => r.MessageId).ToArray();

        var closed = await Eventually.GetAsync(() => admin.CircuitBreakersAsync(Queue), r => r.Any(c => c.Type == Type && c.State == CircuitState.Closed), TimeSpan.FromSeconds(15),
            "the circuit of label.print reported Closed again after a successful trial");
        await Eventually.GetAsync(() => Task.FromResult(runs.Count(r => !r.Failed)), n => n >= ids.Length, TimeSpan.FromSeconds(10), $"all {ids.Length} messages handled once the circuit closed");
        await FailureKit.WaitForSettledAsync(host.Redis, keys, TimeSpan.FromSeconds(5));

        var all = runs.ToArray();
        output.WriteLine("runs: " + string.Join("; ", all.Select((r, i) => $"#{i + 1} {r.Started:HH:mm:ss.fff} attempt {r.Attempt} {(r.Failed ? "failed" : "ok")}")));
        output.WriteLine($"reported Open at {report.ChangedAt:HH:mm:ss.fff} until {report.OpenUntil:HH:mm:ss.fff}; Closed at {closed.Single(c => c.Type == Type).ChangedAt:HH:mm:ss.fff}");

        // Opened by the third failure, reported with the cool-down.
        Assert.True(all.Take(3).All(r => r.Failed) && report.ChangedAt.ToUnixTimeMilliseconds() >= all[2].Ended.ToUnixTimeMilliseconds() - 1,
            "Expected the circuit to be reported Open after the first three runs, which all failed.");
        Assert.InRange(report.OpenUntil - report.ChangedAt, CoolDown - TimeSpan.FromMilliseconds(500), CoolDown);
        Assert.Equal(("workers", consumer.Name), (report.Group, report.Consumer));

        // Nothing runs during a cool-down: the 4th run (the trial) no sooner than 1 s after the 3rd failure,
        // and after the trial failed (the circuit opened again), the 5th no sooner than 1 s after that.
        var wait1 = all[3].Started - all[2].Ended;
        var wait2 = all[4].Started - all[3].Ended;
        output.WriteLine($"waits through the cool-downs: {wait1.TotalMilliseconds:0} ms, {wait2.TotalMilliseconds:0} ms (cool-down {CoolDown.TotalMilliseconds:0} ms)");
        Assert.True(wait1 >= CoolDown, $"Expected no message of the type to run during the cool-down after the circuit opened, but the next ran after {wait1.TotalMilliseconds:0} ms.");
        Assert.True(all[3].Started >= report.OpenUntil, $"Expected the trial no sooner than the reported OpenUntil ({report.OpenUntil:O}), but it ran at {all[3].Started:O}.");
        Assert.True(all[3].Failed && !all[4].Failed, "Expected the trial (run 4) to fail and run 5 to succeed (the handler's script).");
        Assert.True(wait2 >= CoolDown, $"Expected a failed trial to open the circuit again for the cool-down, but the next run came after {wait2.TotalMilliseconds:0} ms.");

        // Held messages count no attempt: each message's attempts are 1, 2, ... without gaps, one more than its failures.
        foreach (var id in ids)
        {
            var attempts = all.Where(r => r.MessageId == id).ToArray();
            Assert.True(attempts.Select(r => r.Attempt).SequenceEqual(Enumerable.Range(1, attempts.Length)) && attempts.Count(r => !r.Failed) == 1,
                $"Expected message {id} to run as attempts 1..n without gaps (waiting in an open circuit counts no attempt) and to succeed once, but its runs were: " +
                string.Join(", ", attempts.Select(r => $"attempt {r.Attempt} {(r.Failed ? "failed" : "ok")}")));
        }

        Assert.Equal(failingRuns, all.Count(r => r.Failed));
        Assert.Equal(ids.Length, all.Length - failingRuns);
    }

    [Fact]
    public async Task While_its_half_open_trial_runs_the_circuit_is_reported_HalfOpen()
    {
        var runs = 0;
        var trialStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finishTrial = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o =>
            {
                o.CircuitBreakerByType[Type] = new CircuitBreakerOptions { FailureThreshold = 1, CoolDown = TimeSpan.FromMilliseconds(500) };
                o.RetryByType[Type] = new RetryPolicy { MaxAttempts = 5, InitialDelay = TimeSpan.FromMilliseconds(50), Jitter = 0 };
            });
            m.AddConsumer(Queue).AddHandler(Type, async (_, token) =>
            {
                if (Interlocked.Increment(ref runs) == 1)
                {
                    throw new IOException("the label printer is offline");
                }

                trialStarted.TrySetResult();
                await finishTrial.Task.WaitAsync(token);
            });
        });
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        await host.Publisher.PublishAsync(Label("one"));
        await Eventually.GetAsync(() => admin.CircuitBreakersAsync(Queue), r => r.Any(c => c.Type == Type && c.State == CircuitState.Open), TimeSpan.FromSeconds(10), "the circuit reported Open");
        CircuitReport during;
        try
        {
            await trialStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
            during = (await admin.CircuitBreakersAsync(Queue)).Single(c => c.Type == Type);
        }
        finally
        {
            finishTrial.TrySetResult();
        }

        await Eventually.GetAsync(() => admin.CircuitBreakersAsync(Queue), r => r.Any(c => c.Type == Type && c.State == CircuitState.Closed), TimeSpan.FromSeconds(10), "the circuit reported Closed after the trial");

        Assert.True(during.State == CircuitState.HalfOpen,
            $"Expected operators to see the circuit HalfOpen while its trial message runs, but it was reported {during.State} (open until {during.OpenUntil:HH:mm:ss.fff}, already past at {DateTimeOffset.UtcNow:HH:mm:ss.fff}).");
    }

    [Fact]
    public async Task The_circuit_opens_for_a_type_handled_in_batches_too()
    {
        var opened = 0;
        using var meters = new System.Diagnostics.Metrics.MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == MillraceTelemetry.Name && instrument.Name == "millrace.circuit.changes")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var all = tags.ToArray();
            if (all.Any(t => t.Key == "type" && (string?)t.Value == "label.batch") && all.Any(t => t.Key == "state" && (string?)t.Value == "Open"))
            {
                Interlocked.Add(ref opened, (int)value);
            }
        });
        meters.Start();
        var batches = 0;
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o =>
            {
                o.CircuitBreakerByType["label.batch"] = new CircuitBreakerOptions { FailureThreshold = 3, CoolDown = TimeSpan.FromSeconds(30) };
                o.RetryByType["label.batch"] = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(50), Jitter = 0 };
            });
            m.Services.AddSingleton(new BatchCalls(() => Interlocked.Increment(ref batches)));
            m.AddConsumer(Queue).AddBatchHandler<LabelBatch, FailingLabelBatchHandler>(b => { b.Size = 1; b.MaxWait = TimeSpan.FromMilliseconds(10); }, "label.batch");
        });
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(host.Prefix, Queue, 1);

        await host.Publisher.PublishBatchAsync(Enumerable.Range(0, 3).Select(i => new OutgoingMessage
        {
            Queue = Queue, Type = "label.batch", Payload = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new LabelBatch(i), MessageJson.Options),
        }).ToArray());
        // Once open, the circuit holds the remaining retries for its 30 s cool-down: wait for the report, not for the dead letters.
        var reports = await Eventually.GetAsync(() => admin.CircuitBreakersAsync(Queue), r => r.Any(c => c.Type == "label.batch" && c.State == CircuitState.Open),
            TimeSpan.FromSeconds(10), "the circuit of label.batch reported open");
        output.WriteLine($"{Volatile.Read(ref batches)} failed batches; circuits reported: {(reports.Count == 0 ? "none" : string.Join(", ", reports.Select(r => $"{r.Type} {r.State}")))}");
        Assert.True(reports.Any(r => r.Type == "label.batch" && r.State == CircuitState.Open),
            $"Expected the circuit of label.batch to open after 3 failed batches in a row (FailureThreshold 3), as for a single-message handler, but {Volatile.Read(ref batches)} batches failed " +
            $"and the circuits reported are: {(reports.Count == 0 ? "none" : string.Join(", ", reports.Select(r => $"{r.Type} {r.State}")))}.");
        Assert.True(Volatile.Read(ref opened) >= 1, "the metric millrace.circuit.changes should count the change to Open for label.batch");
    }

    private static OutgoingMessage Label(string text) => new() { Queue = Queue, Type = Type, Payload = System.Text.Encoding.UTF8.GetBytes(text) };

    private sealed record Run(string MessageId, int Attempt, DateTimeOffset Started, DateTimeOffset Ended, bool Failed);
}

public sealed record LabelBatch(int N);

public sealed record BatchCalls(Func<int> Count);

public sealed class FailingLabelBatchHandler(BatchCalls calls) : IBatchMessageHandler<LabelBatch>
{
    public Task HandleAsync(IReadOnlyList<BatchItem<LabelBatch>> batch, CancellationToken cancellationToken)
    {
        calls.Count();
        throw new IOException("the batch label printer is offline");
    }
}
