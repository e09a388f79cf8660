using Microsoft.Extensions.Options;
using Millrace.Cli.Hosting;
using Millrace.Redis;

namespace Millrace.Cli.Tests;

/// <summary>Parsers and error descriptions, without a server.</summary>
public sealed class CliParsingUnitTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("5s", 5000)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("250", 250)]
    [InlineData("00:00:03", 3000)]
    public void GivenADurationText_WhenParsed_ThenItIsThatLong(string text, double milliseconds)
    {
        Assert.True(CliParsers.TryParseDuration(text, out var duration));
        Assert.Equal(milliseconds, duration.TotalMilliseconds);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-5s")]
    [InlineData("")]
    public void GivenNotADuration_WhenParsed_ThenItIsRefused(string text) =>
        Assert.False(CliParsers.TryParseDuration(text, out _));

    [Fact]
    public void GivenARefusedLogin_WhenDescribed_ThenExitCode4()
    {
        var (code, message) = CliErrors.Describe(new InvalidOperationException("Millrace cannot start: refused", new RedisAuthenticationException("refused")));
        Assert.Equal(ExitCodes.AuthFailed, code);
        Assert.Equal("Millrace cannot start: refused", message);
    }

    [Fact]
    public void GivenAConnectionFailure_WhenDescribed_ThenExitCode3()
    {
        var (code, _) = CliErrors.Describe(new RedisConnectionException("Could not connect to Redis at 127.0.0.1:1: Connection refused."));
        Assert.Equal(ExitCodes.Unreachable, code);
    }

    [Fact]
    public void GivenInvalidOptions_WhenDescribed_ThenExitCode2AndEveryFailureOnOneLine()
    {
        var error = new OptionsValidationException("Millrace", typeof(MillraceOptions), ["Queue 'a': Partitions is 0; allowed 1 to 1024.", "Millrace:KeyPrefix is ''."]);
        var (code, message) = CliErrors.Describe(error);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("invalid settings: Queue 'a': Partitions is 0; allowed 1 to 1024.; Millrace:KeyPrefix is ''.", message);
    }

    [Fact]
    public void GivenAMultiLineMessage_WhenDescribed_ThenItIsOneLine()
    {
        var (_, message) = CliErrors.Describe(new CliException(ExitCodes.Failed, "first\nsecond\r\nthird"));
        Assert.Equal("first second third", message);
    }
}
