using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Millrace.Server;

/// <summary>Maps the server: <c>app.MapMillraceServer()</c>.</summary>
public static class MillraceServerEndpoints
{
    /// <summary>
    /// Adds authentication, the audit log and authorization to the pipeline and maps the JSON API
    /// (<c>/api/stats</c>, <c>/api/v1/...</c>), <c>/metrics</c>, <c>/health/live</c>, <c>/health/ready</c>,
    /// the OpenAPI document (<c>/openapi/v1.json</c>) and the dashboard (<see cref="MapMillraceDashboard"/>).
    /// Throws at once, saying what to add, when <c>AddMillrace</c> or <c>AddMillraceServer</c> is missing.
    /// </summary>
    /// <returns>A builder for conventions on every Millrace endpoint.</returns>
    /// <example><code>app.MapMillraceServer();</code></example>
    public static IEndpointConventionBuilder MapMillraceServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        EnsureRegistered(app.Services);
        _ = app.Services.GetRequiredService<ApiKeyStore>();   // validates the settings and logs a generated key now, not at the first request

        app.Use(async (context, next) =>
        {
            await next(context).ConfigureAwait(false);

            // Routing refuses a body whose Content-Type an endpoint does not accept with a bare 415: say why.
            if (context.Response.StatusCode == StatusCodes.Status415UnsupportedMediaType && !context.Response.HasStarted
                && context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
            {
                await Problems.Write(context, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                    $"Send the body as JSON with Content-Type: application/json (got {context.Request.ContentType ?? "no Content-Type"}). Nothing was changed.").ConfigureAwait(false);
            }
        });
        app.UseAuthentication();
        app.UseMiddleware<AuditMiddleware>();
        app.UseAuthorization();

        var root = app.MapGroup("").WithMetadata(MillraceEndpointMarker.Instance).AddEndpointFilter<ApiErrorFilter>().WithTags("Millrace");
        var secured = root.MapGroup("").RequireAuthorization(MillraceAuth.Policy(MillraceRole.Viewer));
        var api = secured.MapGroup("/api/v1");
        var queue = api.MapGroup("/queues/{queue}").AddEndpointFilter<QueueMustExistFilter>();

        static RouteHandlerBuilder Mutating(RouteHandlerBuilder endpoint, MillraceRole role) =>
            endpoint.RequireAuthorization(MillraceAuth.Policy(role)).AddEndpointFilter<CsrfFilter>()
                .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);

        HealthEndpoints.Map(root, api);
        SessionEndpoints.Map(root, api);
        StatsEndpoints.Map(secured, api);
        QueueEndpoints.Map(api, queue);
        DeadLetterEndpoints.Map(queue, Mutating);
        ControlEndpoints.Map(queue, Mutating);
        TaskEndpoints.Map(api, Mutating);
        AuditEndpoints.Map(api);
        LiveEndpoints.Map(api);
        FlowEndpoints.Map(api, queue, Mutating);

        var metrics = root.MapGet("/metrics", MetricsEndpoint.ScrapeAsync).WithSummary("Prometheus text format 0.0.4.");
        if (app.Services.GetRequiredService<IOptions<MillraceServerOptions>>().Value.MetricsAllowAnonymous)
        {
            metrics.AllowAnonymous();
        }
        else
        {
            metrics.RequireAuthorization(MillraceAuth.Policy(MillraceRole.Viewer));
        }

        app.MapOpenApi().AllowAnonymous();
        app.MapMillraceDashboard();
        return root;
    }

    /// <summary>
    /// Maps the dashboard at <c>/</c> with its assets under <c>/dashboard/</c>, all served from this
    /// assembly (no CDN). The page holds no data: it signs in with an API key and reads the API, so
    /// every number it shows passes the API's role checks. Chain <c>.RequireAuthorization(...)</c> to
    /// hide the page itself behind your own scheme.
    /// </summary>
    /// <returns>A builder for conventions on the dashboard's endpoints.</returns>
    public static IEndpointConventionBuilder MapMillraceDashboard(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        EnsureRegistered(endpoints.ServiceProvider);
        return DashboardEndpoints.Map(endpoints);
    }

    private static void EnsureRegistered(IServiceProvider services)
    {
        if (services.GetService<MillraceAdmin>() is null)
        {
            throw new InvalidOperationException(
                "The Millrace server needs Millrace itself: call builder.Services.AddMillrace(builder.Configuration) (or AddMillrace(o => o.Redis = \"host:port\")) before builder.Build().");
        }

        if (services.GetService<ApiKeyStore>() is null)
        {
            throw new InvalidOperationException(
                "The Millrace server's services are missing: call builder.Services.AddMillraceServer(builder.Configuration) before builder.Build().");
        }
    }
}
