using System.Net;
using Millrace.Redis.Tests.Support;
using Millrace.Server.Tests.Support;

namespace Millrace.Server.Tests.Metrics;

/// <summary>/metrics parses as Prometheus text and its numbers follow the messages that flow.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Given_messages_flowing_When_metrics_are_scraped_before_and_after_Then_the_text_parses_and_the_counters_move()
    {
        await using var scenario = await Scenario.StartAsync();
        var before = await ScrapeAsync(scenario.Server.Viewer);
        var publishedBefore = Value(before, "millrace_messages_published_total", "orders");
        var processedBefore = Value(before, "millrace_messages_processed_total", "orders");

        const int Count = 7;
        for (var i = 0; i < Count; i++)
        {
            await scenario.Server.Operator.PostJsonAsync("/api/v1/tasks", """{"queue":"orders","type":"ok","payload":{}}""", HttpStatusCode.Created);
        }

        await scenario.DeadLetterAsync();
        var after = await Eventually.GetAsync(
            () => ScrapeAsync(scenario.Server.Viewer),
            f => Value(f, "millrace_messages_processed_total", "orders") - processedBefore >= Count,
            TimeSpan.FromSeconds(20),
            $"{Count} more processed in /metrics");

        Assert.Equal(Count + 1, Value(after, "millrace_messages_published_total", "orders") - publishedBefore);
        Assert.Equal("counter", after["millrace_messages_published_total"].Type);
        Assert.Equal(1, Value(after, "millrace_messages_dead_lettered_total", "orders"));
        Assert.True(Value(after, "millrace_messages_failed_total", "orders") >= 1);

        var duration = after["millrace_handler_duration_seconds"];
        Assert.Equal("histogram", duration.Type);
        Assert.True(duration.Samples.Where(s => s.Name == "millrace_handler_duration_seconds_count").Sum(s => s.Value) >= Count + 1);
        Assert.Equal("histogram", after["millrace_message_latency_seconds"].Type);

        Assert.Equal("gauge", after["millrace_queue_dead_letters"].Type);
        Assert.Equal(1, after["millrace_queue_dead_letters"].Samples.Single(s => s.Label("queue") == "orders").Value);
        Assert.Contains(after["millrace_queue_length"].Samples, s => s.Label("queue") == "orders" && s.Value >= Count + 1);
        Assert.Contains(after["millrace_group_pending"].Samples, s => s.Label("queue") == "orders" && s.Label("group") == "workers");
        Assert.Equal(1, after["millrace_redis_up"].Samples.Single().Value);
    }

    [Fact]
    public async Task Given_the_metrics_endpoint_When_scraped_without_a_key_Then_401_unless_anonymous_scrapes_are_allowed()
    {
        await using (var server = await ServerHost.StartAsync())
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await server.Anonymous.GetAsync("/metrics")).StatusCode);
        }

        await using var open = await ServerHost.StartAsync(settings: new Dictionary<string, string?> { ["Millrace:Server:MetricsAllowAnonymous"] = "true" });
        var response = await open.Anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        PrometheusParser.Parse(await response.Content.ReadAsStringAsync());
    }

    private static async Task<Dictionary<string, PromFamily>> ScrapeAsync(HttpClient client)
    {
        var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return PrometheusParser.Parse(await response.Content.ReadAsStringAsync());
    }

    private static double Value(Dictionary<string, PromFamily> families, string name, string queue) =>
        families.TryGetValue(name, out var family) ? family.Samples.Where(s => s.Label("queue") == queue).Sum(s => s.Value) : 0;
}
