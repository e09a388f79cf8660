using Millrace.Cli.Tests.Support;

namespace Millrace.Cli.Tests;

/// <summary>Every error gives one clear line on stderr, a meaningful exit code and no stack trace.</summary>
public sealed class ErrorPathTests : IDisposable
{
    private readonly MillraceCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task GivenAnUnknownFlag_WhenPublishing_ThenItSaysSoOnOneLineWithExitCode2()
    {
        var result = await _cli.RunAsync("publish", "--bogus");
        Expect.OneLineError(result, 2, "--bogus");
    }

    [Fact]
    public async Task GivenAnUnknownCommand_WhenRun_ThenExitCode2()
    {
        var result = await _cli.RunAsync("frobnicate");
        Expect.OneLineError(result, 2, "frobnicate");
    }

    [Fact]
    public async Task GivenABadValue_WhenPublishingWithCountZero_ThenExitCode2()
    {
        var result = await _cli.RunAsync("publish", "--count", "0");
        Expect.OneLineError(result, 2, "--count");
    }

    [Fact]
    public async Task GivenABadDuration_WhenPublishingWithDelay_ThenExitCode2NamingTheFlag()
    {
        var result = await _cli.RunAsync("publish", "--delay", "soon");
        Expect.OneLineError(result, 2, "--delay");
    }

    [Fact]
    public async Task GivenAnUnreachableRedis_WhenListingQueues_ThenExitCode3()
    {
        var result = await _cli.RunAsync("--redis", "127.0.0.1:1", "queues");
        Expect.OneLineError(result, 3, "127.0.0.1:1");
    }

    [Fact]
    public async Task GivenAnUnreachableRedis_WhenRunningAWorker_ThenExitCode3()
    {
        var result = await _cli.RunAsync("worker", "--redis", "127.0.0.1:1");
        Expect.OneLineError(result, 3, "127.0.0.1:1");
    }

    [Fact]
    public async Task GivenAWrongPassword_WhenPublishing_ThenExitCode4()
    {
        var result = await _cli.RunAsync("publish", "--redis", $"{MillraceCli.AclRedis},user=millrace,password=not-the-password");
        Expect.OneLineError(result, 4, "");
        Assert.DoesNotContain("not-the-password", result.Stderr);
    }

    [Fact]
    public async Task GivenNoPasswordForAnAclRedis_WhenCheckingConfig_ThenExitCode4()
    {
        var result = await _cli.RunAsync("config", "check", "--redis", MillraceCli.AclRedis);
        Assert.Equal(4, result.ExitCode);
        Assert.Single(result.StderrLines);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task GivenAnUnknownQueue_WhenPausing_ThenExitCode5NamingIt()
    {
        var result = await _cli.RunAsync("pause", "no-such-queue");
        Expect.OneLineError(result, 5, "no-such-queue");
    }

    [Fact]
    public async Task GivenAnUnknownQueue_WhenListingItsDeadLetters_ThenExitCode5()
    {
        var result = await _cli.RunAsync("dlq", "list", "no-such-queue");
        Expect.OneLineError(result, 5, "no-such-queue");
    }

    [Fact]
    public async Task GivenAnUnknownQueue_WhenAskingForItsStats_ThenExitCode5()
    {
        var result = await _cli.RunAsync("stats", "--queue", "no-such-queue");
        Expect.OneLineError(result, 5, "no-such-queue");
    }

    [Fact]
    public async Task GivenAnInvalidQueueSetting_WhenStarting_ThenItStopsNamingTheSettingAndWhatIsAllowed()
    {
        _cli.Environment["MILLRACE__QUEUES__orders__PARTITIONS"] = "0";
        var result = await _cli.RunAsync("queues");
        Expect.OneLineError(result, 2, "Partitions");
        Assert.Contains("1 to 1024", result.Stderr);
    }

    [Fact]
    public async Task GivenAnInvalidRedisMode_WhenStarting_ThenItNamesTheVariableAndTheAllowedValues()
    {
        _cli.Environment["REDIS_ADDRS"] = MillraceCli.Redis;
        _cli.Environment["REDIS_MODE"] = "galaxy";
        var result = await _cli.RunAsync("queues");
        Expect.OneLineError(result, 2, "REDIS_MODE");
        Assert.Contains("standalone, sentinel or cluster", result.Stderr);
    }

    [Fact]
    public async Task GivenAMalformedRedisFlag_WhenRun_ThenExitCode2NamingTheFlag()
    {
        var result = await _cli.RunAsync("queues", "--redis", "127.0.0.1:6390,mode=wormhole");
        Expect.OneLineError(result, 2, "--redis");
    }

    [Fact]
    public async Task GivenABrokenSettingsFile_WhenRun_ThenExitCode2()
    {
        await File.WriteAllTextAsync(Path.Combine(_cli.WorkingDirectory, "appsettings.json"), "{ \"Millrace\": { ");
        var result = await _cli.RunAsync("queues");
        Expect.OneLineError(result, 2, "appsettings.json");
    }

    [Fact]
    public async Task GivenTerminateWithoutConfirmation_WhenRun_ThenNothingIsDeletedAndExitCode6()
    {
        Assert.Equal(0, (await _cli.RunAsync("publish", "--queue", "keep", "--delay", "1h")).ExitCode);
        await using (var worker = _cli.StartLongRunning("worker", "--queue", "keep"))
        {
            await worker.WaitForOutputAsync("Ctrl-C stops", TimeSpan.FromSeconds(30));   // declares the queue
        }

        var result = await _cli.RunAsync("terminate", "keep");
        Expect.OneLineError(result, 6, "--confirm keep");
        var queues = Json.Parse(await _cli.RunAsync("queues", "keep", "--json"));
        Assert.Equal(1, queues.GetProperty("delayed").GetInt64());

        var terminated = await _cli.RunAsync("terminate", "keep", "--confirm", "keep");
        Assert.True(terminated.ExitCode == 0, terminated.ToString());
        Expect.OneLineError(await _cli.RunAsync("queues", "keep"), 5, "keep");
    }
}
