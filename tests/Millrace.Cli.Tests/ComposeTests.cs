using System.Diagnostics;
using Millrace.Cli.Tests.Support;

namespace Millrace.Cli.Tests;

/// <summary>
/// deploy/docker-compose.yml checked by Docker Compose itself (<c>config</c> needs no engine). The
/// compose tool comes from deploy/compose/compose.sh, which installs docker-compose from apt when no
/// Compose is present; when that fails, the test fails with its message.
/// </summary>
public sealed class ComposeTests
{
    private static readonly string Root = MillraceCli.RepositoryRoot();

    private static async Task<(int Code, string Out, string Err)> ComposeAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(Root, "deploy", "compose", "compose.sh"))
        {
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add("deploy/docker-compose.yml");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task GivenTheComposeFile_WhenComposeChecksIt_ThenSentinelRedisServerAndWorkersAreThere()
    {
        var (code, output, error) = await ComposeAsync("config");
        Assert.True(code == 0, $"compose config failed (exit {code}): {error}");
        var (servicesCode, services, servicesError) = await ComposeAsync("config", "--services");
        Assert.True(servicesCode == 0, servicesError);
        var names = services.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var expected in new[] { "redis-primary", "redis-replica", "sentinel-1", "sentinel-2", "sentinel-3", "server", "worker" })
        {
            Assert.Contains(expected, names);
        }

        // The server and workers reach Redis through the Sentinels with the seed's variables.
        Assert.Contains("REDIS_MODE: sentinel", output);
        Assert.Contains("REDIS_ADDRS: sentinel-1:26379,sentinel-2:26379,sentinel-3:26379", output);
        Assert.Contains("REDIS_MASTER_NAME: mymaster", output);
        Assert.Contains("--replicaof", output);
        Assert.True(output.Contains("published: 8080", StringComparison.Ordinal) || output.Contains("8080:8080", StringComparison.Ordinal), "the server's port 8080 is published");

        var sentinel = await File.ReadAllTextAsync(Path.Combine(Root, "deploy", "compose", "sentinel.conf"));
        Assert.Contains("sentinel monitor mymaster redis-primary 6379 2", sentinel);
    }

    [Fact]
    public async Task GivenTheClusterProfile_WhenComposeChecksIt_ThenSixNodesAnInitAndClusterServerAndWorkersAreThere()
    {
        var (code, services, error) = await ComposeAsync("--profile", "cluster", "config", "--services");
        Assert.True(code == 0, $"compose config failed (exit {code}): {error}");
        var names = services.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var expected in new[] { "cluster-1", "cluster-2", "cluster-3", "cluster-4", "cluster-5", "cluster-6", "cluster-init", "server-cluster", "worker-cluster" })
        {
            Assert.Contains(expected, names);
        }

        var (_, output, _) = await ComposeAsync("--profile", "cluster", "config");
        Assert.Contains("REDIS_MODE: cluster", output);
        Assert.Contains("--cluster-replicas 1", output);
    }

    [Fact]
    public void GivenTheDockerfile_ThenItPublishesTheCliAndRunsIt()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Root, "deploy", "Dockerfile"));
        Assert.Contains("dotnet publish src/Millrace.Cli/Millrace.Cli.csproj", dockerfile);
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/Millrace.Cli.dll\"]", dockerfile);
    }
}
