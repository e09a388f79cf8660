using System.Text.Json;

namespace Millrace.Cli.Tests.Support;

public static class Json
{
    public static JsonElement Parse(CliResult result)
    {
        Assert.True(result.ExitCode == 0, $"expected exit 0: {result}");
        try
        {
            return JsonDocument.Parse(result.Stdout).RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"stdout is not JSON ({e.Message}): {result}");
        }
    }
}

public static class Expect
{
    /// <summary>An error path: non-zero <paramref name="exitCode"/>, exactly one line on stderr containing <paramref name="says"/>, no stack trace.</summary>
    public static void OneLineError(CliResult result, int exitCode, string says)
    {
        Assert.True(result.ExitCode == exitCode, $"expected exit code {exitCode}: {result}");
        Assert.True(result.StderrLines.Length == 1, $"expected exactly one line on stderr: {result}");
        Assert.StartsWith("millrace: ", result.StderrLines[0]);
        Assert.Contains(says, result.StderrLines[0], StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.DoesNotContain("Exception:", result.Stderr);
    }
}
