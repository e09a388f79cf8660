using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Millrace.Server;

/// <summary>Registers the Millrace server: <c>services.AddMillraceServer(configuration)</c>.</summary>
public static class MillraceServerServiceCollectionExtensions
{
    /// <summary>
    /// Adds the server's services: settings from <c>Millrace:Server</c> (validated at start), API-key
    /// and dashboard-cookie authentication with the viewer, operator and admin roles, CSRF protection,
    /// the audit log, the Prometheus exporter, health checks, the live feed and the OpenAPI document.
    /// Needs Millrace itself (<c>services.AddMillrace(...)</c>). The API speaks snake_case JSON.
    /// </summary>
    /// <example>
    /// <code>
    /// var builder = WebApplication.CreateBuilder(args);
    /// builder.Services.AddMillrace(builder.Configuration);
    /// builder.Services.AddMillraceServer(builder.Configuration);
    /// var app = builder.Build();
    /// app.MapMillraceServer();
    /// app.Run();
    /// </code>
    /// </example>
    public static IServiceCollection AddMillraceServer(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<MillraceServerOptions>()
            .Bind(configuration.GetSection(MillraceServerOptions.SectionName), o => o.ErrorOnUnknownConfiguration = false)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MillraceServerOptions>, MillraceServerOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ApiKeyStore>();
        services.TryAddSingleton<AuditLog>();
        services.TryAddSingleton<ServerInstance>();
        services.TryAddSingleton(sp => new MillraceMetricsExporter(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton<LiveFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveFeed>());
        services.AddHostedService<OtlpExport>();
        services.TryAddTransient<QueueMustExistFilter>();
        services.TryAddTransient<CsrfFilter>();

        // Authentication: a policy scheme picks the API key when one is sent, else the dashboard cookie.
        // It is not made the app's default scheme: Millrace's policies name it, other endpoints keep theirs.
        services.AddAuthentication()
            .AddPolicyScheme(MillraceAuth.Scheme, "Millrace API key or dashboard session", o =>
                o.ForwardDefaultSelector = http =>
                    ApiKeyAuthenticationHandler.HasKeyHeader(http.Request) || http.RequestServices.GetRequiredService<ApiKeyStore>().AuthDisabled
                        ? MillraceAuth.KeyScheme
                        : MillraceAuth.CookieScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(MillraceAuth.KeyScheme, null)
            .AddCookie(MillraceAuth.CookieScheme, o =>
            {
                o.Cookie.Name = MillraceAuth.CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
                o.SlidingExpiration = true;
                o.Events.OnRedirectToLogin = c => { c.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
                o.Events.OnRedirectToAccessDenied = c => { c.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
            });
        services.AddOptions<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions>(MillraceAuth.CookieScheme)
            .Configure<IOptions<MillraceServerOptions>>((cookie, server) => cookie.ExpireTimeSpan = server.Value.Auth.SessionLifetime);
        services.AddAuthorization(o =>
        {
            foreach (var role in Enum.GetValues<MillraceRole>())
            {
                o.AddPolicy(MillraceAuth.Policy(role), p => p.AddAuthenticationSchemes(MillraceAuth.Scheme).RequireAuthenticatedUser().RequireRole(MillraceAuth.RoleName(role)));
            }
        });
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddAntiforgery(o =>
        {
            o.HeaderName = MillraceAuth.CsrfHeader;
            o.Cookie.Name = "millrace.csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.HttpOnly = true;
        });

        services.AddHealthChecks()
            .AddCheck<RedisHealthCheck>("redis", tags: [HealthEndpoints.ReadyTag])
            .AddCheck<WorkersHealthCheck>("workers", tags: [HealthEndpoints.ReadyTag]);
        services.AddProblemDetails();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.DictionaryKeyPolicy = null;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        });
        services.AddOpenApi();
        return services;
    }
}
