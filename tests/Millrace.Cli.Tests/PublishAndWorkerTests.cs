using System.Text.Json;
using Millrace.Cli.Tests.Support;

namespace Millrace.Cli.Tests;

public sealed class PublishAndWorkerTests : IDisposable
{
    private readonly MillraceCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task GivenNoPayload_WhenPublishing_ThenTheWorkerEchoesDefaultTask()
    {
        var published = Json.Parse(await _cli.RunAsync("publish", "--json"));
        var id = published.GetProperty("id").GetString()!;
        Assert.Equal("default", published.GetProperty("queue").GetString());
        Assert.False(published.GetProperty("duplicate").GetBoolean());

        await using var worker = _cli.StartLongRunning("worker", "--concurrency", "2");
        await worker.WaitForOutputAsync($"echo default {id} attempt 1: default-task", TimeSpan.FromSeconds(30));
        Assert.Equal(0, await worker.InterruptAsync(TimeSpan.FromSeconds(40)));
        Assert.Contains("worker: stopped; handled 1", worker.Stderr);
    }

    [Fact]
    public async Task GivenAPayloadHeadersAndAType_WhenPublished_ThenTheQueueHoldsIt()
    {
        var result = await _cli.RunAsync("publish", "hello [world]", "--queue", "orders", "--type", "order.created",
            "--header", "source=cli", "--header", "trace=1", "--priority", "0", "--tenant", "acme");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches("^published [0-9a-f-]+ to 'orders' \\(partition 0, entry [0-9]+-[0-9]+\\)\\.", result.Stdout);
        var id = result.Stdout.Split(' ')[1];
        Assert.Equal(1, Json.Parse(await _cli.RunAsync("queues", "orders", "--json")).GetProperty("length").GetInt64());   // publishing declares the queue

        // An unknown type is not handled by the demo worker: it is dead-lettered as no-handler, payload intact.
        await using (var worker = _cli.StartLongRunning("worker", "--queue", "orders"))
        {
            await PollAsync(async () => (await _cli.RunAsync("queues", "orders", "--json")).Stdout.Contains("\"deadLetters\": 1", StringComparison.Ordinal), "the message dead-lettered");
        }

        var letter = Json.Parse(await _cli.RunAsync("dlq", "list", "orders", "--json")).GetProperty("items")[0];
        Assert.Equal(id, letter.GetProperty("messageId").GetString());
        Assert.Equal("order.created", letter.GetProperty("type").GetString());
        var shown = Json.Parse(await _cli.RunAsync("dlq", "show", "orders", letter.GetProperty("id").GetString()!, "--json"));
        Assert.Equal("hello [world]", shown.GetProperty("payload").GetString());
    }

    [Fact]
    public async Task GivenAFile_WhenPublishingFromIt_ThenThePayloadIsTheFile()
    {
        var file = Path.Combine(_cli.WorkingDirectory, "payload.json");
        await File.WriteAllTextAsync(file, "{\"order\":42}");
        var id = Json.Parse(await _cli.RunAsync("publish", "--file", file, "--json")).GetProperty("id").GetString()!;

        await using var worker = _cli.StartLongRunning("worker");
        await worker.WaitForOutputAsync($"echo default {id} attempt 1: {{\"order\":42}}", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task GivenBothAPayloadAndAFile_WhenPublishing_ThenItRefusesAndPublishesNothing()
    {
        var result = await _cli.RunAsync("publish", "x", "--file", "y");
        Expect.OneLineError(result, 2, "not both");
    }

    [Fact]
    public async Task GivenADedupKey_WhenPublishedTwice_ThenTheSecondIsADuplicateOfTheFirst()
    {
        var first = Json.Parse(await _cli.RunAsync("publish", "--dedup-key", "order-42", "--json"));
        var second = Json.Parse(await _cli.RunAsync("publish", "--dedup-key", "order-42", "--json"));
        Assert.True(second.GetProperty("duplicate").GetBoolean());
        Assert.Equal(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
    }

    [Fact]
    public async Task GivenADelay_WhenPublished_ThenItIsScheduledNotInTheStream()
    {
        var published = Json.Parse(await _cli.RunAsync("publish", "--delay", "1h", "--json"));
        Assert.NotEqual(JsonValueKind.Null, published.GetProperty("deliverAt").ValueKind);
        await using (var worker = _cli.StartLongRunning("worker"))
        {
            await worker.WaitForOutputAsync("Ctrl-C stops", TimeSpan.FromSeconds(30));   // declares the queue
        }

        var queue = Json.Parse(await _cli.RunAsync("queues", "default", "--json"));
        Assert.Equal(1, queue.GetProperty("delayed").GetInt64());
        Assert.Equal(0, queue.GetProperty("length").GetInt64());
    }

    [Fact]
    public async Task GivenCount100000_WhenPublishing_ThenAProgressBarIsShownAndStatsShowTheMessages()
    {
        var result = await _cli.RunAsync(TimeSpan.FromMinutes(5), "publish", "task {n}", "--count", "100000", "--queue", "bulk");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("publishing 100000 to 'bulk'", result.Stderr);   // the progress bar's task, on stderr
        Assert.Contains("100%", result.Stderr);
        Assert.Contains("published 100000 messages to 'bulk'", result.Stdout);

        var stats = await _cli.RunAsync("stats");
        Assert.True(stats.ExitCode == 0, stats.ToString());
        Assert.Matches("total +│ 100000 ", stats.Stdout);
        var json = Json.Parse(await _cli.RunAsync("stats", "--queue", "bulk", "--json"));
        Assert.Equal(100000, json.GetProperty("totals").GetProperty("published").GetInt64());
        Assert.Equal(100000, Json.Parse(await _cli.RunAsync("queues", "bulk", "--json")).GetProperty("length").GetInt64());
    }

    [Fact]
    public async Task GivenAlwaysFailingMessages_WhenTheWorkerRunsOutOfAttempts_ThenTheyAreDeadLetteredAndCanBeRequeued()
    {
        var id = Json.Parse(await _cli.RunAsync("publish", "boom", "--type", "fail", "--queue", "jobs", "--json")).GetProperty("id").GetString()!;
        await using (var worker = _cli.StartLongRunning("worker", "--queue", "jobs", "--fail-rate", "1", "--max-attempts", "2", "--retry-delay", "100ms"))
        {
            await worker.WaitForOutputAsync($"fail jobs {id} attempt 2: failing on purpose", TimeSpan.FromSeconds(30));
            await PollAsync(async () => (await _cli.RunAsync("queues", "jobs", "--json")).Stdout.Contains("\"deadLetters\": 1", StringComparison.Ordinal), "one dead letter");
            Assert.Equal(0, await worker.InterruptAsync(TimeSpan.FromSeconds(40)));
        }

        var list = Json.Parse(await _cli.RunAsync("dlq", "list", "jobs", "--json"));
        Assert.Equal(1, list.GetProperty("total").GetInt64());
        var letter = list.GetProperty("items")[0];
        Assert.Equal(id, letter.GetProperty("messageId").GetString());
        var letterId = letter.GetProperty("id").GetString()!;

        var table = await _cli.RunAsync("dlq", "list", "jobs");
        Assert.Contains(letterId, table.Stdout);
        Assert.Contains("demo failure", table.Stdout);

        var show = Json.Parse(await _cli.RunAsync("dlq", "show", "jobs", letterId, "--json"));
        Assert.Equal("boom", show.GetProperty("payload").GetString());
        Assert.Equal(2, show.GetProperty("attempts").GetInt32());

        var dry = Json.Parse(await _cli.RunAsync("dlq", "requeue", "jobs", "--all", "--dry-run", "--json"));
        Assert.Equal(1, dry.GetProperty("matched").GetInt32());
        Assert.Equal(0, dry.GetProperty("requeued").GetInt32());
        Assert.Equal(1, Json.Parse(await _cli.RunAsync("queues", "jobs", "--json")).GetProperty("deadLetters").GetInt64());

        var requeued = Json.Parse(await _cli.RunAsync("dlq", "requeue", "jobs", "--all", "--json"));
        Assert.Equal(1, requeued.GetProperty("requeued").GetInt32());
        var after = Json.Parse(await _cli.RunAsync("queues", "jobs", "--json"));
        Assert.Equal(0, after.GetProperty("deadLetters").GetInt64());

        var missing = await _cli.RunAsync("dlq", "show", "jobs", letterId);
        Expect.OneLineError(missing, 5, letterId);
    }

    [Fact]
    public async Task GivenDeadLetters_WhenPurgedWithConfirmation_ThenNoneAreLeft()
    {
        await _cli.RunAsync("publish", "x", "--type", "no-such-handler", "--queue", "p");
        await using (var worker = _cli.StartLongRunning("worker", "--queue", "p"))
        {
            await PollAsync(async () => (await _cli.RunAsync("queues", "p", "--json")).Stdout.Contains("\"deadLetters\": 1", StringComparison.Ordinal), "the unhandled type dead-lettered");
        }

        Expect.OneLineError(await _cli.RunAsync("dlq", "purge", "p"), 6, "--confirm p");
        var purged = Json.Parse(await _cli.RunAsync("dlq", "purge", "p", "--confirm", "p", "--json"));
        Assert.Equal(1, purged.GetProperty("purged").GetInt64());
    }

    internal static async Task PollAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"expected {what} within {seconds} s");
    }
}
