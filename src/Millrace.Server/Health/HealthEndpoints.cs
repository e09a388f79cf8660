using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Millrace.Server;

/// <summary>
/// <c>/health/live</c> (the process answers), <c>/health/ready</c> (Redis answers and in-process
/// consumers fetch) without a key, for probes; <c>GET /api/v1/health</c> gives the same report (viewer).
/// </summary>
internal static class HealthEndpoints
{
    public const string ReadyTag = "millrace-ready";

    public static void Map(RouteGroupBuilder root, RouteGroupBuilder api)
    {
        root.MapGet("/health/live", () => TypedResults.Ok(new { Status = "live" })).AllowAnonymous()
            .WithSummary("Liveness: the process answers HTTP.");
        root.MapGet("/health/ready", ReportAsync).AllowAnonymous()
            .WithSummary("Readiness: Redis answers PING and consumers in this process fetched recently; 503 otherwise.");
        api.MapGet("/health", ReportAsync).WithSummary("The readiness report with every check (seed 002's /api/v1/health).");
    }

    private static async Task<IResult> ReportAsync(HealthCheckService health, CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(r => r.Tags.Contains(ReadyTag), ct).ConfigureAwait(false);
        var body = new
        {
            Status = report.Status == HealthStatus.Healthy ? "healthy" : report.Status == HealthStatus.Degraded ? "degraded" : "unhealthy",
            DurationMs = report.TotalDuration.TotalMilliseconds,
            Checks = report.Entries.ToDictionary(e => e.Key, e => new { Status = e.Value.Status.ToString().ToLowerInvariant(), e.Value.Description }),
        };
        return report.Status == HealthStatus.Unhealthy ? TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable) : TypedResults.Ok(body);
    }
}
