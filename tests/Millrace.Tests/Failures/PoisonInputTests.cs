using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Failures;

[MessageType("ledger.entry")]
public sealed record LedgerEntry(int N, string Note);

/// <summary>Message ids the typed handler handled, with how often.</summary>
public sealed class LedgerBook
{
    public ConcurrentDictionary<string, int> Handled { get; } = new(StringComparer.Ordinal);
}

public sealed class LedgerHandler(LedgerBook book) : IMessageHandler<LedgerEntry>
{
    public Task HandleAsync(LedgerEntry message, MessageContext context, CancellationToken cancellationToken)
    {
        book.Handled.AddOrUpdate(context.Message.Id, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Poison input written by other clients with a plain XADD: each kind goes to the dead-letter queue
/// with its reason, and the worker goes on with the good messages around it.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class PoisonInputTests(ITestOutputHelper output)
{
    private const string Queue = "ledger";
    private const string Type = "ledger.entry";
    private const int MaxPayloadBytes = 1024;

    private enum Kind
    {
        NoType,
        NoPayload,
        CreatedAtNotANumber,
        HeadersNotJson,
        UnknownType,
        PayloadNotJson,
        Oversized,
    }

    private static string ReasonFor(Kind kind) => kind switch
    {
        Kind.UnknownType => "no-handler",
        Kind.PayloadNotJson => "undecodable-payload",
        Kind.Oversized => "oversized",
        _ => "poison",
    };

    [Fact]
    public async Task A_thousand_poison_entries_among_ten_thousand_good_ones_all_go_to_the_dead_letter_queue_with_their_reasons()
    {
        const int good = 10_000, poison = 1_000;
        var book = new LedgerBook();
        await using var host = await StartAsync(book);
        var keys = new QueueKeys(host.Prefix, Queue, 1);
        var admin = host.Services.GetRequiredService<MillraceAdmin>();
        var consumer = Assert.Single(host.Workers.Consumers);

        // Interleave: 11,000 slots, 1,000 of them poison (seeded, so a failure can be replayed), the kinds in turn.
        var random = new Random(20_240_611);
        var poisonSlots = Enumerable.Range(0, good + poison).OrderBy(_ => random.Next()).Take(poison).ToHashSet();
        var goodIds = new List<string>(good);
        var poisonKinds = new Dictionary<string, Kind>(StringComparer.Ordinal);   // stream entry id → kind
        var pendingGood = new List<OutgoingMessage>();
        var pendingPoison = new List<(Kind Kind, RedisCommand Add)>();
        var n = 0;
        for (var slot = 0; slot < good + poison; slot++)
        {
            if (poisonSlots.Contains(slot))
            {
                await FlushGoodAsync();
                var kind = (Kind)((pendingPoison.Count + poisonKinds.Count) % 7);
                pendingPoison.Add((kind, StreamCommands.XAdd(keys.Stream(0), PoisonFields(kind, slot))));
            }
            else
            {
                await FlushPoisonAsync();
                pendingGood.Add(Good(n++));
            }
        }

        await FlushGoodAsync();
        await FlushPoisonAsync();
        Assert.Equal(poison, poisonKinds.Count);

        await Eventually.GetAsync(async () => book.Handled.Count + await admin.DeadLetterCountAsync(Queue), t => t >= good + poison, TimeSpan.FromSeconds(60),
            $"all {good + poison} entries either handled or dead-lettered");
        await FailureKit.WaitForSettledAsync(host.Redis, keys, TimeSpan.FromSeconds(10));

        var dead = (await FailureKit.DeadEntriesAsync(host.Redis, keys)).ToDictionary(d => d.Entry.Field(DeadLetterFields.SourceId)!, d => d.Entry, StringComparer.Ordinal);
        var wrong = new List<string>();
        foreach (var group in poisonKinds.GroupBy(p => p.Value))
        {
            var expected = ReasonFor(group.Key);
            var misses = group.Where(p => !dead.TryGetValue(p.Key, out var d) || d.Field(DeadLetterFields.Reason) != expected).ToArray();
            if (misses.Length > 0)
            {
                var first = misses[0].Key;
                var actually = dead.TryGetValue(first, out var d) ? $"dead-lettered with reason '{d.Field(DeadLetterFields.Reason)}'"
                    : book.Handled.ContainsKey(first) ? "handled by the handler as a good message" : "neither handled nor dead-lettered";
                wrong.Add($"{misses.Length} of {group.Count()} '{group.Key}' entries are not in the dead-letter queue with reason '{expected}' (e.g. {first}: {actually})");
            }
        }

        var goodSet = goodIds.ToHashSet(StringComparer.Ordinal);
        var missingGood = goodIds.Where(id => !book.Handled.ContainsKey(id)).ToArray();
        var extra = book.Handled.Keys.Where(id => !goodSet.Contains(id)).ToArray();
        output.WriteLine($"handled {book.Handled.Count} (good {good - missingGood.Length}, others {extra.Length}); dead-lettered {dead.Count}: " +
            string.Join(", ", dead.Values.GroupBy(d => d.Field(DeadLetterFields.Reason)).Select(g => $"{g.Key} {g.Count()}")));

        Assert.False(consumer.Done.IsCompleted, $"Expected the consumer to keep running through poison input, but it stopped ({(consumer.Done.IsCompleted ? await consumer.Done : default)}).");
        Assert.Same(consumer, Assert.Single(host.Workers.Consumers));
        Assert.True(missingGood.Length == 0, $"Expected all {good} good messages handled, but {missingGood.Length} were not (first: {string.Join(", ", missingGood.Take(5))}).");
        Assert.True(wrong.Count == 0, "Expected every poison entry in the dead-letter queue with its reason, but:\n" + string.Join("\n", wrong));
        Assert.True(extra.Length == 0, $"Expected only the good messages to reach the handler, but {extra.Length} others did (first: {string.Join(", ", extra.Take(5))}).");
        Assert.Equal(poison, dead.Count);
        Assert.All(book.Handled, h => Assert.True(h.Value == 1, $"Expected message {h.Key} handled once, but it was handled {h.Value} times."));

        async Task FlushGoodAsync()
        {
            if (pendingGood.Count > 0)
            {
                goodIds.AddRange((await host.Publisher.PublishBatchAsync(pendingGood)).Select(r => r.MessageId));
                pendingGood.Clear();
            }
        }

        async Task FlushPoisonAsync()
        {
            if (pendingPoison.Count > 0)
            {
                var replies = await host.Redis.ExecuteBatchAsync(pendingPoison.Select(p => p.Add).ToArray());
                for (var i = 0; i < replies.Length; i++)
                {
                    poisonKinds[replies[i].ThrowIfError().AsString()!] = pendingPoison[i].Kind;
                }

                pendingPoison.Clear();
            }
        }
    }

    /// <remarks>
    /// MaxPayloadBytes is "the largest payload accepted" (the publisher refuses a 5 KB payload at 1 KB). The
    /// consumer's check (QueueConsumer.HandleAsync) compares the whole entry with MaxPayloadBytes plus a flat
    /// 64 KB envelope allowance, so at a 1 KB limit it lets payloads of up to about 65 KB through to the handler.
    /// </remarks>
    [Fact]
    public async Task An_entry_whose_payload_is_larger_than_MaxPayloadBytes_goes_to_the_dead_letter_queue_as_oversized()
    {
        var book = new LedgerBook();
        await using var host = await StartAsync(book);
        var keys = new QueueKeys(host.Prefix, Queue, 1);
        var admin = host.Services.GetRequiredService<MillraceAdmin>();

        // Valid in every other way: a typed handler would take it if the size were not checked.
        var id = await host.Redis.XAddAsync(keys.Stream(0), PoisonFields(Kind.Oversized, 1));
        await Eventually.GetAsync(async () => book.Handled.Count + await admin.DeadLetterCountAsync(Queue), t => t >= 1, TimeSpan.FromSeconds(10),
            "the oversized entry handled or dead-lettered");
        await FailureKit.WaitForSettledAsync(host.Redis, keys, TimeSpan.FromSeconds(5));

        Assert.True(book.Handled.IsEmpty, $"Expected an entry with a {OversizedPayload.Length}-byte payload (MaxPayloadBytes {MaxPayloadBytes}) never to reach the handler, but it was handled.");
        var letter = Assert.Single(await admin.DeadLettersAsync(Queue));
        Assert.Equal("oversized", letter.Reason);
        Assert.Equal(id, letter.Fields.Single(f => f.Name == DeadLetterFields.SourceId).ValueText);
    }

    private static Task<TestHost> StartAsync(LedgerBook book) => TestHost.StartAsync(m =>
    {
        m.Quiet();
        m.Services.AddSingleton(book);
        m.Services.Configure<MillraceOptions>(o => o.MaxPayloadBytes = MaxPayloadBytes);
        m.AddConsumer(Queue).AddHandler<LedgerEntry, LedgerHandler>();
    });

    private static OutgoingMessage Good(int n) => new()
    {
        Queue = Queue,
        Type = Type,
        Payload = JsonSerializer.SerializeToUtf8Bytes(new LedgerEntry(n, "ok"), MessageJson.Options),
    };

    /// <summary>A 5 KB payload that is otherwise a valid <see cref="LedgerEntry"/>.</summary>
    private static readonly byte[] OversizedPayload = JsonSerializer.SerializeToUtf8Bytes(new LedgerEntry(0, new string('x', 5 * 1024)), MessageJson.Options);

    private static StreamField[] PoisonFields(Kind kind, int slot)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var valid = Encoding.UTF8.GetBytes($"{{\"n\":{slot},\"note\":\"poison\"}}");
        return kind switch
        {
            Kind.NoType => [new("payload", valid), new("created_at", now)],
            Kind.NoPayload => [new("type", Type), new("created_at", now)],
            Kind.CreatedAtNotANumber => [new("type", Type), new("payload", valid), new("created_at", "yesterday at noon")],
            Kind.HeadersNotJson => [new("type", Type), new("payload", valid), new("created_at", now), new("headers", "traceparent=00-abc")],
            Kind.UnknownType => [new("type", "ledger.mystery"), new("payload", valid), new("created_at", now)],
            Kind.PayloadNotJson => [new("type", Type), new("payload", "{\"n\": 1, \"note\": "), new("created_at", now)],
            Kind.Oversized => [new("type", Type), new("payload", OversizedPayload), new("created_at", now)],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }
}
