using Millrace.Cli.Tests.Support;

namespace Millrace.Cli.Tests;

public sealed class ToolCommandsTests : IDisposable
{
    private readonly MillraceCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task GivenRedis_WhenBenchRuns_ThenItPrintsJsonWithEveryMessageConsumed()
    {
        var json = Json.Parse(await _cli.RunAsync("bench", "--count", "2000", "--concurrency", "16"));
        Assert.True(json.GetProperty("completed").GetBoolean());
        Assert.Equal(2000, json.GetProperty("consumed").GetInt64());
        Assert.True(json.GetProperty("publishPerSecond").GetDouble() > 0);
        Assert.Empty(Json.Parse(await _cli.RunAsync("queues", "--json")).EnumerateArray());   // its queue is gone
    }

    [Fact]
    public async Task GivenRedis_WhenSmokeRuns_ThenItPublishesAndReadsBack()
    {
        var result = await _cli.RunAsync("smoke");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("smoke ok:", result.Stdout);
    }

    [Fact]
    public async Task GivenHandledMessages_WhenAskingForStats_ThenTheCountsAndTheWorkerShow()
    {
        Assert.Equal(0, (await _cli.RunAsync("publish", "--count", "5", "--queue", "st")).ExitCode);
        await using var worker = _cli.StartLongRunning("worker", "--queue", "st");
        await PublishAndWorkerTests.PollAsync(
            async () => Json.Parse(await _cli.RunAsync("stats", "--queue", "st", "--json")).GetProperty("totals").GetProperty("processed").GetInt64() == 5,
            "5 processed in the statistics");
        var json = Json.Parse(await _cli.RunAsync("stats", "--json"));
        Assert.Equal(5, json.GetProperty("totals").GetProperty("published").GetInt64());
        Assert.Contains(json.GetProperty("workers").EnumerateArray(), w => w.GetProperty("queues")[0].GetString() == "st");
        var table = await _cli.RunAsync("stats");
        Assert.Contains("last heartbeat", table.Stdout);
    }

    [Fact]
    public async Task GivenTaskStateEnabled_WhenAMessageIsHandled_ThenTasksListAndShowIt()
    {
        _cli.Environment["MILLRACE__TASKSTATE__ENABLED"] = "true";
        var id = Json.Parse(await _cli.RunAsync("publish", "traced", "--queue", "tk", "--json")).GetProperty("id").GetString()!;
        await using var worker = _cli.StartLongRunning("worker", "--queue", "tk");
        await worker.WaitForOutputAsync($"echo tk {id} attempt 1: traced", TimeSpan.FromSeconds(30));
        await PublishAndWorkerTests.PollAsync(
            async () => (await _cli.RunAsync("tasks", "show", id, "--json")).Stdout.Contains("\"state\": \"succeeded\"", StringComparison.Ordinal),
            "the task succeeded");

        var list = Json.Parse(await _cli.RunAsync("tasks", "list", "--state", "succeeded", "--json"));
        Assert.Contains(list.GetProperty("items").EnumerateArray(), t => t.GetProperty("id").GetString() == id);
        var show = Json.Parse(await _cli.RunAsync("tasks", "show", id, "--json"));
        Assert.Equal("traced", show.GetProperty("payload").GetString());
        Expect.OneLineError(await _cli.RunAsync("tasks", "show", "no-such-task"), 5, "no-such-task");
    }

    [Fact]
    public async Task GivenNoQueues_WhenListing_ThenTheTableSaysSo()
    {
        var result = await _cli.RunAsync("queues");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"no queues under prefix '{_cli.Prefix}' yet", result.Stdout);
    }
}
