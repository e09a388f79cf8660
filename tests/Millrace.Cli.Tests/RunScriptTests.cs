using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Millrace.Cli.Tests.Support;

namespace Millrace.Cli.Tests;

[CollectionDefinition("run.sh", DisableParallelization = true)]
public sealed class RunScriptCollection;

/// <summary>README command 1: ./run.sh starts Redis, builds, serves the dashboard until Ctrl-C.</summary>
[Collection("run.sh")]
public sealed class RunScriptTests : IDisposable
{
    private readonly MillraceCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task GivenTheRepository_WhenRunShRuns_ThenTheDashboardAnswersAndCtrlCStopsIt()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var start = new ProcessStartInfo(Path.Combine(MillraceCli.RepositoryRoot(), "run.sh"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        start.Environment["MILLRACE_CONFIGURATION"] = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        start.Environment["REDIS_ADDRS"] = MillraceCli.Redis;
        start.Environment["MILLRACE__KEYPREFIX"] = _cli.Prefix;
        using var process = Process.Start(start)!;
        await using var running = new RunningCli(process, ["./run.sh"]);
        try
        {
            await running.WaitForOutputAsync($"dashboard at http://127.0.0.1:{port}", TimeSpan.FromMinutes(4));
            Assert.Contains("admin key was generated for this run: mr_", running.Stderr);
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/")).StatusCode);
            Assert.Equal(0, await running.InterruptAsync(TimeSpan.FromSeconds(60)));
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n--- stdout\n{running.Stdout}\n--- stderr\n{running.Stderr}");
        }
    }
}
