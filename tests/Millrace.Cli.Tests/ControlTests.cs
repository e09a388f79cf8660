using Millrace.Cli.Tests.Support;

namespace Millrace.Cli.Tests;

public sealed class ControlTests : IDisposable
{
    private readonly MillraceCli _cli = new();

    public void Dispose() => _cli.Dispose();

    private async Task DeclareAsync(string queue)
    {
        await using var worker = _cli.StartLongRunning("worker", "--queue", queue, "--quiet");
        await worker.WaitForOutputAsync("Ctrl-C stops", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task GivenAQueue_WhenPausedAndResumed_ThenItsStateFollows()
    {
        await DeclareAsync("ctl");
        var paused = await _cli.RunAsync("pause", "ctl");
        Assert.True(paused.ExitCode == 0, paused.ToString());
        Assert.Contains("paused 'ctl'", paused.Stdout);
        Assert.True(Json.Parse(await _cli.RunAsync("queues", "ctl", "--json")).GetProperty("paused").GetBoolean());

        Assert.Equal(0, (await _cli.RunAsync("resume", "ctl")).ExitCode);
        Assert.False(Json.Parse(await _cli.RunAsync("queues", "ctl", "--json")).GetProperty("paused").GetBoolean());
    }

    [Fact]
    public async Task GivenAType_WhenPausedAndResumed_ThenOnlyThatTypeIsPaused()
    {
        await DeclareAsync("ctl");
        Assert.Equal(0, (await _cli.RunAsync("pause", "ctl", "--type", "sleep")).ExitCode);
        var info = Json.Parse(await _cli.RunAsync("queues", "ctl", "--json"));
        Assert.False(info.GetProperty("paused").GetBoolean());
        Assert.Equal("sleep", info.GetProperty("pausedTypes")[0].GetString());

        var resumed = Json.Parse(await _cli.RunAsync("resume", "ctl", "--type", "sleep", "--json"));
        Assert.Equal(0, resumed.GetProperty("unparked").GetInt32());
        Assert.Equal(0, Json.Parse(await _cli.RunAsync("queues", "ctl", "--json")).GetProperty("pausedTypes").GetArrayLength());
    }

    [Fact]
    public async Task GivenAStoppedMessage_WhenAWorkerRuns_ThenItIsNotHandledUntilResumed()
    {
        await DeclareAsync("ctl");
        var id = Json.Parse(await _cli.RunAsync("publish", "held", "--queue", "ctl", "--json")).GetProperty("id").GetString()!;
        var stopped = await _cli.RunAsync("stop", "ctl", id);
        Assert.True(stopped.ExitCode == 0, stopped.ToString());

        await using var worker = _cli.StartLongRunning("worker", "--queue", "ctl");
        await PollAsync(async () => Json.Parse(await _cli.RunAsync("queues", "ctl", "--json")).GetProperty("parked").GetInt64() == 1, "the stopped message parked");
        Assert.DoesNotContain(id, worker.Stdout);

        var resumed = Json.Parse(await _cli.RunAsync("resume-message", "ctl", id, "--json"));
        Assert.True(resumed.GetProperty("unparked").GetBoolean());
        await worker.WaitForOutputAsync($"echo ctl {id} attempt 1: held", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task GivenAQueue_WhenCleanedUp_ThenItReportsWhatItDeleted()
    {
        await DeclareAsync("ctl");
        var result = Json.Parse(await _cli.RunAsync("cleanup", "ctl", "--policy", "low", "--json"));
        Assert.Equal(0, result.GetProperty("deleted").GetInt64());   // nothing is old enough yet
        Assert.Contains("5", result.GetProperty("policy").GetString());

        var bad = await _cli.RunAsync("cleanup", "ctl", "--policy", "forever");
        Expect.OneLineError(bad, 2, "forever");
    }

    private static Task PollAsync(Func<Task<bool>> condition, string what) => PublishAndWorkerTests.PollAsync(condition, what);
}
