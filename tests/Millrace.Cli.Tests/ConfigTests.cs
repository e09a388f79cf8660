using Millrace.Cli.Tests.Support;

namespace Millrace.Cli.Tests;

/// <summary>Settings are layered appsettings.json, then environment variables, then flags; secrets never print.</summary>
public sealed class ConfigTests : IDisposable
{
    private readonly MillraceCli _cli = new();

    public void Dispose() => _cli.Dispose();

    private Task WriteSettingsAsync(string json) => File.WriteAllTextAsync(Path.Combine(_cli.WorkingDirectory, "appsettings.json"), json);

    [Fact]
    public async Task GivenAnAclRedis_WhenCheckingConfig_ThenThePasswordIsMaskedAndTheConnectionWorks()
    {
        var result = await _cli.RunAsync("config", "check", "--redis", $"{MillraceCli.AclRedis},user=millrace,password=millrace-secret");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("password=*****", result.Stdout);
        Assert.DoesNotContain("millrace-secret", result.Stdout + result.Stderr);
        Assert.Contains("connection ok: Redis ", result.Stdout);
    }

    [Fact]
    public async Task GivenAWebhookUrlAndServerKeys_WhenCheckingConfig_ThenTheirSecretsAreNotPrinted()
    {
        _cli.Environment["MILLRACE__ALERTS__WEBHOOKURL"] = "https://hooks.example.com/services/T000/webhook-token-123";
        _cli.Environment["MILLRACE__SERVER__AUTH__KEYS__0__KEY"] = "server-key-abcdef-123456";
        var result = await _cli.RunAsync("config", "check");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("https://hooks.example.com/*****", result.Stdout);
        Assert.Contains("1 configured (keys not shown)", result.Stdout);
        Assert.DoesNotContain("webhook-token-123", result.Stdout);
        Assert.DoesNotContain("server-key-abcdef-123456", result.Stdout);
    }

    [Fact]
    public async Task GivenTheSeedVariables_WhenCheckingConfig_ThenTheyAreUsedAsWritten()
    {
        _cli.Environment["MILLRACE__REDIS"] = "127.0.0.1:1";   // the seed's variables win over Millrace:Redis
        _cli.Environment["REDIS_MODE"] = "standalone";
        _cli.Environment["REDIS_ADDRS"] = MillraceCli.AclRedis;
        _cli.Environment["REDIS_USERNAME"] = "millrace";
        _cli.Environment["REDIS_PASSWORD"] = "millrace-secret";
        var json = Json.Parse(await _cli.RunAsync("config", "check", "--json"));
        Assert.Contains("REDIS_ADDRS", json.GetProperty("redisSource").GetString());
        Assert.Equal($"{MillraceCli.AclRedis},user=millrace,password=*****", json.GetProperty("millrace").GetProperty("Redis").GetString());
        Assert.True(json.GetProperty("connection").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task GivenAllThreeLayers_WhenCheckingConfig_ThenFlagsBeatVariablesBeatTheFile()
    {
        await WriteSettingsAsync("""{ "Millrace": { "KeyPrefix": "from-file", "DefaultDedupTtl": "00:10:00", "Queues": { "orders": { "Partitions": 4 } } } }""");
        _cli.Environment.Remove("MILLRACE__KEYPREFIX");
        var fromFile = Json.Parse(await _cli.RunAsync("config", "check", "--json")).GetProperty("millrace");
        Assert.Equal("from-file", fromFile.GetProperty("KeyPrefix").GetString());
        Assert.Equal("00:10:00", fromFile.GetProperty("DefaultDedupTtl").GetString());
        Assert.Equal(4, fromFile.GetProperty("Queues").GetProperty("orders").GetProperty("Partitions").GetInt32());

        _cli.Environment["MILLRACE__KEYPREFIX"] = "from-env";
        Assert.Equal("from-env", Json.Parse(await _cli.RunAsync("config", "check", "--json")).GetProperty("millrace").GetProperty("KeyPrefix").GetString());

        var fromFlag = Json.Parse(await _cli.RunAsync("config", "check", "--json", "--prefix", "from-flag")).GetProperty("millrace");
        Assert.Equal("from-flag", fromFlag.GetProperty("KeyPrefix").GetString());
        Assert.Equal("00:10:00", fromFlag.GetProperty("DefaultDedupTtl").GetString());
    }

    [Fact]
    public async Task GivenTheRedisFlag_WhenTheSeedVariablesAreAlsoSet_ThenTheFlagWins()
    {
        _cli.Environment["REDIS_ADDRS"] = "127.0.0.1:1";
        var json = Json.Parse(await _cli.RunAsync("config", "check", "--json", "--redis", MillraceCli.Redis));
        Assert.Equal("the --redis flag", json.GetProperty("redisSource").GetString());
        Assert.True(json.GetProperty("connection").GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task GivenAnUnreachableRedis_WhenCheckingConfig_ThenTheSettingsPrintAndTheErrorIsOneLine()
    {
        var result = await _cli.RunAsync("config", "check", "--redis", "127.0.0.1:1");
        Expect.OneLineError(result, 3, "127.0.0.1:1");
        Assert.Contains("Millrace:KeyPrefix", result.Stdout);
    }
}
