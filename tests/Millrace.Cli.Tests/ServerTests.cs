using System.Net;
using System.Net.Sockets;
using Millrace.Cli.Tests.Support;

namespace Millrace.Cli.Tests;

public sealed class ServerTests : IDisposable
{
    private readonly MillraceCli _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task GivenWorkersAndDemo_WhenTheServerRuns_ThenTheDashboardAnswersTheKeyIsPrintedAndMessagesFlow()
    {
        var port = FreePort();
        await using var server = _cli.StartLongRunning("server", "--workers", "--demo", "--demo-rate", "50", "--quiet", "--urls", $"http://127.0.0.1:{port}");
        await server.WaitForOutputAsync($"dashboard at http://127.0.0.1:{port}", TimeSpan.FromSeconds(60));
        await server.WaitForOutputAsync("admin key was generated for this run: mr_", TimeSpan.FromSeconds(5));
        var key = server.Stderr.Split("for this run: ")[1].Split(' ')[0];

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/stats")).StatusCode);

        // The demo producer publishes and the in-process workers handle: the shared statistics show both.
        await PublishAndWorkerTests.PollAsync(async () =>
        {
            var stats = Json.Parse(await _cli.RunAsync("stats", "--json")).GetProperty("totals");
            return stats.GetProperty("published").GetInt64() > 0 && stats.GetProperty("processed").GetInt64() > 0;
        }, "published and processed demo messages", 60);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/stats");
        request.Headers.Add("X-Api-Key", key);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);

        Assert.Equal(0, await server.InterruptAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("millrace server: stopped.", server.Stdout);
    }

    [Fact]
    public async Task GivenAnUnreachableRedis_WhenTheServerStarts_ThenItExitsWithOneLine()
    {
        var result = await _cli.RunAsync("server", "--redis", "127.0.0.1:1", "--workers", "--urls", $"http://127.0.0.1:{FreePort()}");
        // The server logs its generated key before it connects; the error itself is one line, last, without a stack trace.
        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Equal(1, result.StderrLines.Count(l => l.StartsWith("millrace: ", StringComparison.Ordinal)));
        Assert.StartsWith("millrace: ", result.StderrLines[^1]);
        Assert.Contains("127.0.0.1:1", result.StderrLines[^1]);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
