using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Millrace.Redis.Tests.Support;
using Millrace.Server.Tests.Support;

namespace Millrace.Server.Tests.Metrics;

/// <summary>With Millrace:Server:Otlp:Endpoint set, metrics and traces reach an OTLP/HTTP receiver.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task Given_an_otlp_endpoint_When_messages_flow_Then_metrics_and_traces_are_posted_to_it()
    {
        // A plain HTTP receiver on loopback standing in for a collector: it keeps every body it is sent.
        var received = new ConcurrentQueue<(string Path, string ContentType, byte[] Body)>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        await using var collector = builder.Build();
        collector.MapPost("/v1/{signal}", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            received.Enqueue((http.Request.Path.Value!, http.Request.ContentType ?? "", body.ToArray()));
            return Results.Ok();
        });
        await collector.StartAsync();
        var address = collector.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        await using var scenario = await Scenario.StartAsync(new Dictionary<string, string?>
        {
            ["Millrace:Server:Otlp:Endpoint"] = address + "/",
            ["Millrace:Server:Otlp:MetricsInterval"] = "00:00:00.5",
        });
        for (var i = 0; i < 5; i++)
        {
            await scenario.Server.Operator.PostJsonAsync("/api/v1/tasks", """{"queue":"orders","type":"ok","payload":{}}""", HttpStatusCode.Created);
        }

        bool Saw(string path, string text) => received.Any(r => r.Path == path && Encoding.UTF8.GetString(r.Body).Contains(text, StringComparison.Ordinal));
        await Eventually.GetAsync(() => Task.FromResult(Saw("/v1/metrics", "millrace.messages.published")), seen => seen, TimeSpan.FromSeconds(20), "an OTLP metrics export naming millrace.messages.published");
        await Eventually.GetAsync(() => Task.FromResult(Saw("/v1/traces", "publish orders")), seen => seen, TimeSpan.FromSeconds(20), "an OTLP trace export with the publish activity");
        Assert.All(received, r => Assert.Equal("application/x-protobuf", r.ContentType));
    }
}
