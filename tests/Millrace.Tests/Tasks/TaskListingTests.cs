using Millrace.Redis.Tests.Support;
using Millrace.Tests.Failures;
using Millrace.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Tasks;

/// <summary>
/// Listing task records by state, type and queue, a page at a time, newest change first: 10,000
/// records page through with every id exactly once; bad queries fail clearly; records that change
/// state during a listing are not listed twice.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class TaskListingTests(ITestOutputHelper output)
{
    private const string Queue = "ledger";

    [Fact]
    public async Task Given_10000_pending_tasks_when_listed_by_state_a_page_at_a_time_then_each_is_seen_exactly_once_newest_change_first()
    {
        await using var host = await TestHost.StartAsync(m => m.Tracking());
        var admin = host.Admin();
        var (invoices, receipts) = await PublishAsync(host, invoices: 7_000, receipts: 3_000);
        var all = invoices.Concat(receipts).ToHashSet(StringComparer.Ordinal);

        var pages = await ListAsync(admin, new TaskQuery { State = TaskState.Pending, Limit = 500 });

        AssertListing(all, pages, "State = Pending, Limit = 500");
        Assert.All(pages.SelectMany(p => p.Items), r => Assert.Equal(TaskState.Pending, r.State));
        output.WriteLine($"State = Pending, Limit = 500: {pages.Count} pages, sizes {string.Join(", ", pages.Select(p => p.Items.Count).Distinct())}");

        // A limit that does not divide the count: the last page is a short one.
        var odd = await ListAsync(admin, new TaskQuery { State = TaskState.Pending, Limit = 333 });
        AssertListing(all, odd, "State = Pending, Limit = 333");
        Assert.Equal(10_000 % 333, odd[^1].Items.Count);
    }

    [Fact]
    public async Task Given_two_types_when_listed_by_type_by_state_and_type_and_by_queue_then_each_listing_holds_exactly_its_records()
    {
        await using var host = await TestHost.StartAsync(m => m.Tracking());
        var admin = host.Admin();
        var (invoices, receipts) = await PublishAsync(host, invoices: 7_000, receipts: 3_000);

        AssertListing(receipts.ToHashSet(StringComparer.Ordinal), await ListAsync(admin, new TaskQuery { Type = "receipt", Limit = 1000 }), "Type = receipt");
        AssertListing(invoices.ToHashSet(StringComparer.Ordinal), await ListAsync(admin, new TaskQuery { State = TaskState.Pending, Type = "invoice", Limit = 777 }), "State = Pending and Type = invoice");
        AssertListing(invoices.Concat(receipts).ToHashSet(StringComparer.Ordinal), await ListAsync(admin, new TaskQuery { Queue = Queue, Limit = 1000 }), "Queue = ledger");
        AssertListing(invoices.Concat(receipts).ToHashSet(StringComparer.Ordinal), await ListAsync(admin, new TaskQuery { Limit = 1000 }), "everything");

        var none = await admin.TasksAsync(new TaskQuery { State = TaskState.Succeeded, Type = "invoice" });
        Assert.Empty(none.Items);
        Assert.Null(none.NextCursor);
        Assert.Empty((await admin.TasksAsync(new TaskQuery { Type = "no-such-type" })).Items);
        Assert.All((await admin.TasksAsync(new TaskQuery { Type = "receipt", Limit = 50 })).Items, r => Assert.Equal("receipt", r.Type));
    }

    [Fact]
    public async Task Given_a_bad_query_when_listing_tasks_then_it_fails_with_a_clear_ArgumentException()
    {
        await using var host = await TestHost.StartAsync(m => m.Tracking());
        var admin = host.Admin();
        await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = "invoice", Payload = "i"u8.ToArray() });

        var cursor = await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.TasksAsync(new TaskQuery { Cursor = "not-a-cursor" }));
        Assert.Contains("not-a-cursor", cursor.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.TasksAsync(new TaskQuery { Cursor = "" }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.TasksAsync(new TaskQuery { Cursor = "12345|abc" }));

        var zero = await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.TasksAsync(new TaskQuery { Limit = 0 }));
        Assert.Contains("1 to 1000", zero.Message, StringComparison.Ordinal);
        var tooMany = await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.TasksAsync(new TaskQuery { Limit = 1001 }));
        Assert.Contains("1001", tooMany.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.TasksAsync(new TaskQuery { Limit = -5 }));
        await Assert.ThrowsAsync<ArgumentNullException>(() => admin.TasksAsync(null!));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => admin.TaskAsync(""));

        // A good query still works after the bad ones: nothing was changed by them.
        Assert.Single((await admin.TasksAsync(new TaskQuery { Limit = 1000 })).Items);
        Assert.Single((await admin.TasksAsync(new TaskQuery { Limit = 1 })).Items);
    }

    [Fact]
    public async Task Given_records_moving_between_states_when_listed_by_type_meanwhile_then_no_record_is_listed_twice()
    {
        // Design: a change moves a record to the newest end of every index, which a listing walking
        // from newest to oldest has already passed: it may be missed, never listed twice.
        await using var publisher = await TestHost.StartAsync(m => m.Tracking());
        var admin = publisher.Admin();
        var (invoices, _) = await PublishAsync(publisher, invoices: 3_000, receipts: 0);
        var first = await admin.TasksAsync(new TaskQuery { Type = "invoice", Limit = 100 });

        await using var worker = await TestHost.StartAsync(m => m.Tracking().AddConsumer(Queue, c => c.StartPosition = StartPosition.Earliest).AddHandler("invoice", (context, _) =>
        {
            context.Result = "paid";
            return Task.CompletedTask;
        }), publisher.Prefix);
        await Eventually.GetAsync(async () => (await admin.TasksAsync(new TaskQuery { State = TaskState.Succeeded, Limit = 1 })).Items.Count, n => n > 0, TimeSpan.FromSeconds(10),
            "the worker handling the invoices");

        var pages = await ListAsync(admin, new TaskQuery { Type = "invoice", Limit = 100 }, first);
        var ids = pages.SelectMany(p => p.Items).Select(r => r.Id).ToArray();
        var twice = ids.GroupBy(id => id, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        output.WriteLine($"listed {ids.Length} of {invoices.Count} while they changed; {pages.SelectMany(p => p.Items).Count(r => r.State == TaskState.Succeeded)} were seen as succeeded");
        Assert.True(twice.Length == 0, $"Expected no record listed twice in one listing, but {twice.Length} were (first: {string.Join(", ", twice.Take(3))}).");
        Assert.All(ids, id => Assert.Contains(id, invoices));
    }

    [Fact]
    public async Task Given_records_leaving_a_state_when_that_state_is_listed_meanwhile_then_every_listed_record_is_in_that_state()
    {
        // TaskQuery.State promises "only records in this state"; the index read and the record read are two round trips.
        await using var publisher = await TestHost.StartAsync(m => m.Tracking());
        var admin = publisher.Admin();
        await PublishAsync(publisher, invoices: 3_000, receipts: 0);
        await using var worker = await TestHost.StartAsync(m => m.Tracking().AddConsumer(Queue, c => c.StartPosition = StartPosition.Earliest).AddHandler("invoice", (_, _) => Task.CompletedTask),
            publisher.Prefix);

        var listed = new List<TaskRecord>();
        string? cursor = null;
        do
        {
            var page = await admin.TasksAsync(new TaskQuery { State = TaskState.Pending, Limit = 50, Cursor = cursor });
            listed.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        var wrong = listed.Where(r => r.State != TaskState.Pending).ToArray();
        output.WriteLine($"listed {listed.Count} as pending while a worker drained them; {wrong.Length} were in another state");
        Assert.True(wrong.Length == 0,
            $"Expected a listing by State = Pending to return only pending records, but {wrong.Length} of {listed.Count} were not " +
            $"({string.Join(", ", wrong.GroupBy(r => r.State).Select(g => $"{g.Count()} {g.Key}"))}).");
    }

    private static async Task<(IReadOnlyList<string> Invoices, IReadOnlyList<string> Receipts)> PublishAsync(TestHost host, int invoices, int receipts)
    {
        // The two types interleaved (in a fixed shuffled order), so every page of a mixed listing holds both.
        var types = Enumerable.Repeat("invoice", invoices).Concat(Enumerable.Repeat("receipt", receipts)).ToArray();
        new Random(42).Shuffle(types);
        var messages = types.Select((type, i) => new OutgoingMessage { Queue = Queue, Type = type, Payload = BitConverter.GetBytes(i) }).ToArray();

        var byType = new Dictionary<string, List<string>>(StringComparer.Ordinal) { ["invoice"] = [], ["receipt"] = [] };
        foreach (var chunk in messages.Chunk(500))
        {
            var results = await host.Publisher.PublishBatchAsync(chunk);
            for (var i = 0; i < chunk.Length; i++)
            {
                byType[chunk[i].Type].Add(results[i].MessageId);
            }
        }

        Assert.Equal((invoices, receipts), (byType["invoice"].Count, byType["receipt"].Count));
        return (byType["invoice"], byType["receipt"]);
    }

    /// <summary>Every page of a listing, following NextCursor (at most a page per 1 record plus one, so a broken cursor cannot loop forever).</summary>
    private static async Task<List<TaskPage>> ListAsync(MillraceAdmin admin, TaskQuery query, TaskPage? first = null)
    {
        var pages = new List<TaskPage>();
        var page = first ?? await admin.TasksAsync(query);
        pages.Add(page);
        while (page.NextCursor is { } cursor)
        {
            Assert.True(pages.Count <= 20_001, "Expected the listing to end, but NextCursor kept coming.");
            page = await admin.TasksAsync(new TaskQuery { State = query.State, Type = query.Type, Queue = query.Queue, Limit = query.Limit, Cursor = cursor });
            pages.Add(page);
        }

        return pages;
    }

    private static void AssertListing(IReadOnlySet<string> expected, IReadOnlyList<TaskPage> pages, string what)
    {
        var items = pages.SelectMany(p => p.Items).ToArray();
        var twice = items.GroupBy(r => r.Id, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        Assert.True(twice.Length == 0, $"{what}: expected every id once, but {twice.Length} came more than once (first: {string.Join(", ", twice.Take(3))}).");
        var ids = items.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        Assert.True(ids.SetEquals(expected),
            $"{what}: expected exactly the {expected.Count} published ids, but listed {ids.Count} ({expected.Count(id => !ids.Contains(id))} missing, {ids.Count(id => !expected.Contains(id))} unexpected).");
        for (var i = 1; i < items.Length; i++)
        {
            Assert.True(items[i].UpdatedAt <= items[i - 1].UpdatedAt,
                $"{what}: expected newest change first, but item {i} ({items[i].Id}, {items[i].UpdatedAt:O}) is newer than item {i - 1} ({items[i - 1].Id}, {items[i - 1].UpdatedAt:O}).");
        }

        Assert.Null(pages[^1].NextCursor);
        Assert.All(pages.Take(pages.Count - 1), p => Assert.NotNull(p.NextCursor));
        Assert.All(pages.Take(pages.Count - 1), p => Assert.True(p.Items.Count > 0, $"{what}: expected no empty page before the last."));
    }
}
