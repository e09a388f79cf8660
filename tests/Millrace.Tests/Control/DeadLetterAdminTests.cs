using System.Collections.Concurrent;
using System.Text;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Failures;
using Millrace.Tests.Support;

namespace Millrace.Tests.Control;

/// <summary>
/// The operator's dead-letter actions (MillraceAdmin): bulk requeue with and without a dry run,
/// delete and purge. Each test fills a dead-letter queue through a real consumer first.
/// </summary>
public sealed class DeadLetterAdminTests
{
    private const string Queue = "notify";

    /// <summary>Type and error of each message; the handler throws the error until healed.</summary>
    private static readonly (string Type, string Error)[] Failures =
    [
        ("email", "SMTP timeout after 30 s"),
        ("email", "SMTP timeout after 30 s"),
        ("email", "SMTP timeout after 30 s"),
        ("email", "invalid address"),
        ("email", "invalid address"),
        ("sms", "gateway Timeout"),
        ("sms", "gateway Timeout"),
        ("sms", "invalid number"),
    ];

    [Fact]
    public async Task A_dry_run_bulk_requeue_reports_the_ids_matching_by_type_and_by_error_text_and_moves_nothing()
    {
        await using var dlq = await DeadLetterQueue.StartAsync(partitions: 2);
        var countBefore = await dlq.Admin.DeadLetterCountAsync(Queue);
        var streamBefore = await dlq.StreamLengthAsync();

        var byType = await dlq.Admin.RequeueDeadLettersAsync(Queue, new DeadLetterFilter { Type = "email" }, dryRun: true);
        var byError = await dlq.Admin.RequeueDeadLettersAsync(Queue, new DeadLetterFilter { ErrorContains = "TIMEOUT" }, dryRun: true);

        Assert.True(byType.DryRun && byError.DryRun, "Expected both results to say they were dry runs.");
        AssertIds(dlq.LetterIds(f => f.Type == "email"), byType.Ids, "a dry run filtered by type 'email'");
        AssertIds(dlq.LetterIds(f => f.Error.Contains("timeout", StringComparison.OrdinalIgnoreCase)), byError.Ids, "a dry run filtered by error text 'TIMEOUT' (case-insensitive)");
        Assert.Equal((5, 0), (byType.Matched, byType.Requeued));
        Assert.Equal((5, 0), (byError.Matched, byError.Requeued));

        Assert.Equal(countBefore, await dlq.Admin.DeadLetterCountAsync(Queue));
        Assert.Equal(streamBefore, await dlq.StreamLengthAsync());
        Assert.Equal(Failures.Length, dlq.Calls.Count);   // nothing was delivered again
    }

    [Fact]
    public async Task A_bulk_requeue_moves_exactly_the_matching_dead_letters_back_to_the_queue()
    {
        await using var dlq = await DeadLetterQueue.StartAsync(partitions: 2);
        var filter = new DeadLetterFilter { Type = "email", ErrorContains = "timeout" };
        var dry = await dlq.Admin.RequeueDeadLettersAsync(Queue, filter, dryRun: true);
        var expected = dlq.LetterIds(f => f.Type == "email" && f.Error.Contains("timeout", StringComparison.OrdinalIgnoreCase));
        AssertIds(expected, dry.Ids, "the dry run");

        dlq.Heal();
        var result = await dlq.Admin.RequeueDeadLettersAsync(Queue, filter, dryRun: false);

        Assert.False(result.DryRun);
        AssertIds(expected, result.Ids, "the real run (the same as its dry run)");
        Assert.Equal((3, 3), (result.Matched, result.Requeued));
        await Eventually.GetAsync(() => Task.FromResult(dlq.Calls.Count), n => n >= Failures.Length + 3, TimeSpan.FromSeconds(10), "the 3 requeued messages to be handled again");
        await FailureKit.WaitForSettledAsync(dlq.Host.Redis, dlq.Keys, TimeSpan.FromSeconds(5));

        var remaining = await dlq.Admin.DeadLettersAsync(Queue, count: 100);
        AssertIds(dlq.LetterIds(f => !(f.Type == "email" && f.Error.Contains("timeout", StringComparison.OrdinalIgnoreCase))), remaining.Select(l => l.Id).ToArray(),
            "the dead letters left after the requeue (the ones that did not match)");
        var again = dlq.Calls.Skip(Failures.Length).ToArray();
        var requeuedMessages = expected.Select(id => dlq.MessageOf[id]).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(requeuedMessages, again.Select(c => c.Message.Id).Order(StringComparer.Ordinal));
        Assert.All(again, c => Assert.Equal(1, c.Message.Attempt));
    }

    [Fact]
    public async Task Deleting_a_dead_letter_removes_only_that_one()
    {
        await using var dlq = await DeadLetterQueue.StartAsync(partitions: 1);
        var victim = dlq.MessageOf.Keys.First();

        Assert.True(await dlq.Admin.DeleteDeadLetterAsync(Queue, victim), "Expected DeleteDeadLetterAsync to delete an existing dead letter.");

        Assert.Null(await dlq.Admin.DeadLetterAsync(Queue, victim));
        Assert.Equal(Failures.Length - 1, await dlq.Admin.DeadLetterCountAsync(Queue));
        AssertIds(dlq.MessageOf.Keys.Where(id => id != victim).ToArray(), (await dlq.Admin.DeadLettersAsync(Queue, count: 100)).Select(l => l.Id).ToArray(), "the dead letters left");
        Assert.False(await dlq.Admin.DeleteDeadLetterAsync(Queue, victim), "Expected a second delete of the same dead letter to report that it found nothing.");
    }

    [Fact]
    public async Task Purging_deletes_every_dead_letter_of_every_partition_and_says_how_many()
    {
        await using var dlq = await DeadLetterQueue.StartAsync(partitions: 2);
        Assert.True(dlq.MessageOf.Keys.Select(id => id[..id.IndexOf('/', StringComparison.Ordinal)]).Distinct().Count() == 2,
            "Expected the dead letters to be spread over both partitions (the test's premise).");

        var purged = await dlq.Admin.PurgeDeadLettersAsync(Queue);

        Assert.Equal(Failures.Length, purged);
        Assert.Equal(0, await dlq.Admin.DeadLetterCountAsync(Queue));
        Assert.Empty(await dlq.Admin.DeadLettersAsync(Queue));
        for (var p = 0; p < dlq.Keys.Partitions; p++)
        {
            Assert.False(await dlq.Host.Redis.ExistsAsync(dlq.Keys.Dead(p)), $"Expected the dead-letter stream of partition {p} to be gone after the purge.");
        }
    }

    private static void AssertIds(IReadOnlyCollection<string> expected, IReadOnlyCollection<string> actual, string what)
    {
        var e = expected.Order(StringComparer.Ordinal).ToArray();
        var a = actual.Order(StringComparer.Ordinal).ToArray();
        Assert.True(e.SequenceEqual(a), $"Expected {what} to give the ids [{string.Join(", ", e)}], but got [{string.Join(", ", a)}].");
    }

    /// <summary>A queue whose consumer has dead-lettered one message per entry of <see cref="Failures"/> (no retries).</summary>
    private sealed class DeadLetterQueue : IAsyncDisposable
    {
        private int _healed;

        private DeadLetterQueue(TestHost host, QueueKeys keys)
        {
            Host = host;
            Keys = keys;
        }

        public TestHost Host { get; }

        public QueueKeys Keys { get; }

        public MillraceAdmin Admin => Host.Services.GetRequiredService<MillraceAdmin>();

        public ConcurrentQueue<MessageContext> Calls { get; } = new();

        /// <summary>Dead-letter id → message id.</summary>
        public Dictionary<string, string> MessageOf { get; } = new(StringComparer.Ordinal);

        /// <summary>Message id → what it was published as.</summary>
        public Dictionary<string, (string Type, string Error)> Published { get; } = new(StringComparer.Ordinal);

        public static async Task<DeadLetterQueue> StartAsync(int partitions)
        {
            DeadLetterQueue? dlq = null;
            var host = await TestHost.StartAsync(m =>
            {
                m.Services.Configure<MillraceOptions>(o => o.Retry = RetryPolicy.None);
                m.AddQueue(Queue, q => q.Partitions = partitions).AddConsumer(Queue);
                foreach (var type in new[] { "email", "sms" })
                {
                    m.AddHandler(type, (context, _) =>
                    {
                        dlq!.Calls.Enqueue(context);
                        return Volatile.Read(ref dlq._healed) == 1 ? Task.CompletedTask : throw new InvalidOperationException(context.Message.PayloadText);
                    });
                }
            });
            dlq = new DeadLetterQueue(host, new QueueKeys(host.Prefix, Queue, partitions));
            var results = await host.Publisher.PublishBatchAsync(Failures.Select((f, i) => new OutgoingMessage
            {
                Queue = Queue, Type = f.Type, Payload = Encoding.UTF8.GetBytes(f.Error), PartitionKey = $"k{i}",
            }).ToArray());
            for (var i = 0; i < results.Count; i++)
            {
                dlq.Published[results[i].MessageId] = Failures[i];
            }

            var letters = await Eventually.GetAsync(() => dlq.Admin.DeadLettersAsync(Queue, count: 100), l => l.Count >= Failures.Length, TimeSpan.FromSeconds(10),
                $"all {Failures.Length} messages in the dead-letter queue");
            await FailureKit.WaitForSettledAsync(host.Redis, dlq.Keys, TimeSpan.FromSeconds(5));
            foreach (var letter in letters)
            {
                dlq.MessageOf[letter.Id] = letter.MessageId!;
            }

            return dlq;
        }

        /// <summary>From now on the handlers succeed.</summary>
        public void Heal() => Volatile.Write(ref _healed, 1);

        public string[] LetterIds(Func<(string Type, string Error), bool> which) =>
            MessageOf.Where(kv => which(Published[kv.Value])).Select(kv => kv.Key).ToArray();

        public async Task<long> StreamLengthAsync()
        {
            long total = 0;
            foreach (var stream in Keys.Streams)
            {
                total += await Host.Redis.XLenAsync(stream);
            }

            return total;
        }

        public ValueTask DisposeAsync() => Host.DisposeAsync();
    }
}
