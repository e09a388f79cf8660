using System.Collections.Concurrent;
using System.Diagnostics;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Failures;

/// <summary>
/// Retries with backoff, the dead-letter record, requeue from the dead-letter queue, non-retriable
/// failures and handler timeouts, against a real Redis.
/// </summary>
public sealed class RetryAndDeadLetterTests(ITestOutputHelper output)
{
    private const string Queue = "payments";

    [Fact]
    public async Task A_failing_handler_is_retried_with_the_configured_backoff_then_dead_lettered_with_its_error_record()
    {
        var attempts = new ConcurrentQueue<Attempt>();
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.RetryByType["charge"] = new RetryPolicy
            {
                InitialDelay = TimeSpan.FromMilliseconds(200), Multiplier = 2, Jitter = 0, MaxAttempts = 3,
            });
            m.AddConsumer(Queue).AddHandler("charge", (context, _) =>
            {
                attempts.Enqueue(new Attempt(context, Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow));
                throw new CardDeclinedException($"card declined on attempt {context.Message.Attempt}");
            });
        });
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(host.Prefix, Queue, 1);

        var published = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = "charge", Payload = "{\"amount\":42}"u8.ToArray() });
        await Eventually.GetAsync(() => admin.DeadLetterCountAsync(Queue), n => n >= 1, TimeSpan.FromSeconds(15), "the message in the dead-letter queue after its 3 attempts");
        await FailureKit.WaitForSettledAsync(host.Redis, keys, TimeSpan.FromSeconds(5));

        var seen = attempts.ToArray();
        Assert.True(seen.Length == 3, $"Expected exactly 3 attempts (MaxAttempts 3), but the handler ran {seen.Length} times: attempts {string.Join(", ", seen.Select(a => a.Context.Message.Attempt))}.");
        Assert.All(seen, a => Assert.Equal(published.MessageId, a.Context.Message.Id));
        Assert.Equal([1, 2, 3], seen.Select(a => a.Context.Message.Attempt));
        var gap1 = Stopwatch.GetElapsedTime(seen[0].Ticks, seen[1].Ticks);
        var gap2 = Stopwatch.GetElapsedTime(seen[1].Ticks, seen[2].Ticks);
        output.WriteLine($"gaps between attempts: {gap1.TotalMilliseconds:0} ms, {gap2.TotalMilliseconds:0} ms (backoff 200 ms, then 400 ms)");
        Assert.True(gap1 >= TimeSpan.FromMilliseconds(200), $"Expected attempt 2 no sooner than 200 ms (InitialDelay) after attempt 1, but it came after {gap1.TotalMilliseconds:0} ms.");
        Assert.True(gap2 >= TimeSpan.FromMilliseconds(400), $"Expected attempt 3 no sooner than 400 ms (InitialDelay × Multiplier) after attempt 2, but it came after {gap2.TotalMilliseconds:0} ms.");

        var letter = Assert.Single(await admin.DeadLettersAsync(Queue));
        Assert.Equal("failed", letter.Reason);
        Assert.Equal(published.MessageId, letter.MessageId);
        Assert.Equal("charge", letter.Type);
        Assert.Equal("{\"amount\":42}", System.Text.Encoding.UTF8.GetString(letter.Payload!.Value.Span));
        Assert.Equal(typeof(CardDeclinedException).FullName, letter.ErrorType);
        Assert.Equal("card declined on attempt 3", letter.ErrorMessage);
        Assert.NotNull(letter.ErrorStack);
        Assert.Contains(typeof(CardDeclinedException).FullName!, letter.ErrorStack, StringComparison.Ordinal);
        Assert.Contains(" at ", letter.ErrorStack, StringComparison.Ordinal);
        Assert.Equal(3, letter.Attempts);
        var first = Assert.NotNull(letter.FirstFailedAt);
        var last = Assert.NotNull(letter.LastFailedAt);
        Assert.True(Ms(first) >= Ms(seen[0].At) && Ms(first) <= Ms(seen[1].At),
            $"Expected the first failure time ({first:O}) between the start of attempt 1 ({seen[0].At:O}) and of attempt 2 ({seen[1].At:O}).");
        Assert.True(Ms(last) >= Ms(seen[2].At), $"Expected the last failure time ({last:O}) no earlier than the start of attempt 3 ({seen[2].At:O}).");
        var source = letter.Fields.Single(f => f.Name == DeadLetterFields.SourceId).ValueText;
        Assert.True(source == seen[2].Context.Message.StreamId, $"Expected the source id to be the stream entry of the last attempt ({seen[2].Context.Message.StreamId}), but it is {source}.");
        Assert.Equal("workers", letter.Fields.Single(f => f.Name == DeadLetterFields.Group).ValueText);
        var byId = await admin.DeadLetterAsync(Queue, letter.Id);
        Assert.True(byId is not null && byId.MessageId == letter.MessageId && byId.Reason == letter.Reason,
            $"Expected DeadLetterAsync({letter.Id}) to return the same dead letter, got {byId?.MessageId ?? "null"}.");
    }

    [Fact]
    public async Task A_dead_letter_requeued_is_delivered_again_as_attempt_1_and_can_then_succeed()
    {
        var attempts = new ConcurrentQueue<MessageContext>();
        var healed = 0;
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(50), Jitter = 0 });
            m.AddConsumer(Queue).AddHandler("refund", (context, _) =>
            {
                attempts.Enqueue(context);
                return Volatile.Read(ref healed) == 1 ? Task.CompletedTask : throw new InvalidOperationException("the bank is down");
            });
        });
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(host.Prefix, Queue, 1);
        var published = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = "refund", Payload = "r-1"u8.ToArray() });
        var letter = (await Eventually.GetAsync(() => admin.DeadLettersAsync(Queue), l => l.Count == 1, TimeSpan.FromSeconds(10), "the message dead-lettered after 2 attempts"))[0];
        Assert.Equal(2, letter.Attempts);

        Volatile.Write(ref healed, 1);
        Assert.True(await admin.RequeueDeadLetterAsync(Queue, letter.Id), "Expected RequeueDeadLetterAsync to find the dead letter it was given.");
        await Eventually.GetAsync(() => Task.FromResult(attempts.Count), n => n >= 3, TimeSpan.FromSeconds(10), "the requeued message to be delivered again");
        await FailureKit.WaitForSettledAsync(host.Redis, keys, TimeSpan.FromSeconds(5));

        var again = attempts.ToArray()[2];
        Assert.Equal(published.MessageId, again.Message.Id);
        Assert.True(again.Message.Attempt == 1, $"Expected the requeued message to arrive as attempt 1 (a fresh start), but it is attempt {again.Message.Attempt}.");
        Assert.Null(again.Message.FirstFailedAt);
        Assert.Equal("r-1", again.Message.PayloadText);
        Assert.Equal(0, await admin.DeadLetterCountAsync(Queue));
        Assert.Equal(3, attempts.Count);
        Assert.False(await admin.RequeueDeadLetterAsync(Queue, letter.Id), "Expected a second requeue of the same dead letter to find nothing (it was moved).");
    }

    [Fact]
    public async Task A_NonRetriableException_goes_straight_to_the_dead_letter_queue_after_one_attempt()
    {
        var calls = 0;
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { MaxAttempts = 5, InitialDelay = TimeSpan.FromMilliseconds(50), Jitter = 0 });
            m.AddConsumer(Queue).AddHandler("capture", (_, _) =>
            {
                Interlocked.Increment(ref calls);
                throw new NonRetriableException("the card was reported stolen");
            });
        });
        var (letter, handled) = await DeadLetterOfOneAsync(host, "capture", () => calls);

        Assert.Equal(1, handled);
        Assert.Equal("non-retriable", letter.Reason);
        Assert.Equal(1, letter.Attempts);
        Assert.Equal(typeof(NonRetriableException).FullName, letter.ErrorType);
        Assert.Equal("the card was reported stolen", letter.ErrorMessage);
    }

    [Fact]
    public async Task An_exception_type_listed_in_the_policy_as_non_retriable_goes_straight_to_the_dead_letter_queue()
    {
        var calls = 0;
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.RetryByType["capture"] = new RetryPolicy
            {
                MaxAttempts = 5, InitialDelay = TimeSpan.FromMilliseconds(50), Jitter = 0, NonRetriable = [typeof(ArgumentException)],
            });
            m.AddConsumer(Queue).AddHandler("capture", (_, _) =>
            {
                Interlocked.Increment(ref calls);
                throw new ArgumentOutOfRangeException("amount", "a negative amount");   // a subclass of the listed type
            });
        });
        var (letter, handled) = await DeadLetterOfOneAsync(host, "capture", () => calls);

        Assert.Equal(1, handled);
        Assert.Equal("non-retriable", letter.Reason);
        Assert.Equal(1, letter.Attempts);
        Assert.Equal(typeof(ArgumentOutOfRangeException).FullName, letter.ErrorType);
    }

    [Fact]
    public async Task A_handler_timeout_cancels_the_handler_token_and_counts_as_a_failed_attempt()
    {
        var runs = new ConcurrentQueue<(int Attempt, bool Cancelled, TimeSpan RanFor)>();
        var timeout = TimeSpan.FromMilliseconds(300);
        await using var host = await TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o => o.Retry = new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(50), Jitter = 0 });
            m.AddConsumer(Queue, c => c.HandlerTimeout = timeout).AddHandler("settle", async (context, token) =>
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    await Task.Delay(Timeout.Infinite, token);
                }
                finally
                {
                    runs.Enqueue((context.Message.Attempt, token.IsCancellationRequested, Stopwatch.GetElapsedTime(started)));
                }
            });
        });
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = "settle", Payload = "s"u8.ToArray() });

        var letter = (await Eventually.GetAsync(() => admin.DeadLettersAsync(Queue), l => l.Count == 1, TimeSpan.FromSeconds(10), "the message dead-lettered after 2 timed-out attempts"))[0];

        var seen = runs.ToArray();
        output.WriteLine($"handler runs until cancelled: {string.Join(", ", seen.Select(r => $"attempt {r.Attempt}: {r.RanFor.TotalMilliseconds:0} ms"))} (timeout {timeout.TotalMilliseconds:0} ms)");
        Assert.Equal([1, 2], seen.Select(r => r.Attempt));
        Assert.All(seen, r => Assert.True(r.Cancelled, $"Expected the handler's token to fire at the timeout (attempt {r.Attempt})."));
        Assert.All(seen, r => Assert.True(r.RanFor >= timeout - TimeSpan.FromMilliseconds(100),
            $"Expected attempt {r.Attempt} to be cancelled no sooner than the {timeout.TotalMilliseconds:0} ms timeout, but it was after {r.RanFor.TotalMilliseconds:0} ms."));
        Assert.Equal("failed", letter.Reason);
        Assert.Equal(2, letter.Attempts);
        Assert.Equal(typeof(TimeoutException).FullName, letter.ErrorType);
        Assert.Contains("settle", letter.ErrorMessage, StringComparison.Ordinal);
    }

    /// <summary>Publishes one message of <paramref name="type"/> and waits until it is dead-lettered and the queue has settled.</summary>
    private static async Task<(DeadLetter Letter, int Handled)> DeadLetterOfOneAsync(TestHost host, string type, Func<int> handled)
    {
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        var keys = new QueueKeys(host.Prefix, Queue, 1);
        var published = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = type, Payload = "p"u8.ToArray() });
        var letters = await Eventually.GetAsync(() => admin.DeadLettersAsync(Queue), l => l.Count >= 1, TimeSpan.FromSeconds(10), "the message in the dead-letter queue");

        // Settled: nothing pending and nothing scheduled for a retry, so the handler cannot run again.
        await FailureKit.WaitForSettledAsync(host.Redis, keys, TimeSpan.FromSeconds(5));
        var letter = Assert.Single(letters);
        Assert.Equal(published.MessageId, letter.MessageId);
        return (letter, handled());
    }

    private static long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    private sealed record Attempt(MessageContext Context, long Ticks, DateTimeOffset At);
}

/// <summary>A handler's failure with a recognisable type for the dead-letter record.</summary>
public sealed class CardDeclinedException(string message) : Exception(message);
