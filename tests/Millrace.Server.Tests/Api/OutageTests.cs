using System.Net;
using Millrace.Redis.Tests.Support;
using Millrace.Server.Tests.Metrics;
using Millrace.Server.Tests.Support;

namespace Millrace.Server.Tests.Api;

/// <summary>When Redis goes away, readiness and /metrics say so (503, millrace_redis_up 0) and API calls answer 503; when it is back, so is the server.</summary>
public sealed class OutageTests
{
    [Fact]
    public async Task Given_a_running_server_When_its_redis_dies_and_comes_back_Then_readiness_metrics_and_the_api_follow()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var server = await ServerHost.StartAsync(m => m.AddQueue("orders").AddConsumer("orders"),
            new Dictionary<string, string?> { ["Millrace:Redis"] = redis.Endpoint.ToString() });
        Assert.Equal(HttpStatusCode.OK, (await server.Anonymous.GetAsync("/health/ready")).StatusCode);

        await redis.KillAsync();
        var ready = await Eventually.GetAsync(() => server.Anonymous.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30), "readiness to fail");
        var report = await ready.JsonAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("unhealthy", (string?)report["checks"]!["redis"]!["status"]);
        Assert.Contains("Redis did not answer PING", (string?)report["checks"]!["redis"]!["description"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await server.Anonymous.GetAsync("/health/live")).StatusCode);

        var metrics = PrometheusParser.Parse(await (await server.Viewer.GetAsync("/metrics")).Content.ReadAsStringAsync());
        Assert.Equal(0, metrics["millrace_redis_up"].Samples.Single().Value);
        Assert.False(metrics.ContainsKey("millrace_queue_length"));   // left out, not reported as zeros

        var queues = await server.Viewer.GetAsync("/api/v1/queues");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, queues.StatusCode);
        Assert.Contains("Redis did not answer", await queues.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await redis.StartAgainAsync();
        await Eventually.GetAsync(() => server.Anonymous.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "readiness to recover");
    }
}
