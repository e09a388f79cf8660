using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Millrace.Server;

/// <summary>A ready-made server host: what <c>millrace server</c> runs.</summary>
public static class MillraceServerApp
{
    /// <summary>
    /// Builds the server: configuration from appsettings.json, environment variables and
    /// <paramref name="args"/> (e.g. <c>--Millrace:Redis=127.0.0.1:6379</c>); Millrace from the
    /// <c>Millrace</c> section (and the seeds' REDIS_* variables); the server from <c>Millrace:Server</c>;
    /// Kestrel on <see cref="MillraceServerOptions.Urls"/>. <paramref name="configure"/> runs before the
    /// app is built (add consumers and handlers there, or change configuration). Millrace is already
    /// bound to the configuration: in the callback take its builder with <c>AddMillrace()</c> (no
    /// arguments); <c>AddMillrace(configuration)</c> again would bind list settings such as
    /// <c>Millrace:Consumers</c> twice.
    /// </summary>
    /// <example>
    /// <code>
    /// var app = MillraceServerApp.Build(args, b => b.Services.AddMillrace().AddConsumer("default").AddHandler("example", (ctx, ct) => Task.CompletedTask));
    /// var key = MillraceServerApp.GeneratedAdminKey(app.Services);   // non-null when no key was configured
    /// await app.RunAsync();
    /// </code>
    /// </example>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddMillrace(builder.Configuration);
        builder.Services.AddMillraceServer(builder.Configuration);
        configure?.Invoke(builder);
        var urls = builder.Configuration[$"{MillraceServerOptions.SectionName}:Urls"] ?? new MillraceServerOptions().Urls;
        builder.WebHost.UseUrls(urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        var app = builder.Build();
        app.MapMillraceServer();
        return app;
    }

    /// <summary>
    /// The admin key generated at start because <c>Millrace:Server:Auth:Keys</c> is empty (and auth is
    /// on), for a launcher to print; null when keys are configured or auth is off. It is also logged once.
    /// </summary>
    public static string? GeneratedAdminKey(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetRequiredService<ApiKeyStore>().GeneratedKey;
    }
}
