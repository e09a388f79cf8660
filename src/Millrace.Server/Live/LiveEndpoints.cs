using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Millrace.Server;

/// <summary><c>GET /api/v1/live</c>: server-sent events, first <c>history</c> (recent samples), then one <c>sample</c> per tick (viewer).</summary>
internal static class LiveEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/live", async (HttpContext http, LiveFeed feed, IOptions<JsonOptions> json) =>
        {
            var ct = http.RequestAborted;
            http.Response.Headers.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            http.Response.Headers["X-Accel-Buffering"] = "no";
            var reader = feed.Subscribe(ct);
            var options = json.Value.SerializerOptions;
            try
            {
                await http.Response.WriteAsync($"event: history\ndata: {JsonSerializer.Serialize(feed.History(), options)}\n\n", ct).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                await foreach (var sample in reader.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    await http.Response.WriteAsync($"event: sample\ndata: {JsonSerializer.Serialize(sample, options)}\n\n", ct).ConfigureAwait(false);
                    await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The browser went away.
            }
        }).WithSummary("Live throughput, latency and backlog as server-sent events (history first, then a sample per tick).");
    }
}
