using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Millrace.Server.Tests.Support;

namespace Millrace.Server.Tests.Api;

/// <summary>Dashboard sign-in with a cookie and CSRF token; settings validated at start; the unsafe switch; the generated key.</summary>
public sealed class SessionAndOptionsTests
{
    [Fact]
    public async Task Given_a_signed_in_cookie_When_a_mutating_call_lacks_the_csrf_token_Then_403_and_with_it_200()
    {
        await using var server = await ServerHost.StartAsync(m => m.AddQueue("orders").AddConsumer("orders"));
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = server.Address };

        var bad = await browser.PostAsync("/auth/signin", new FormUrlEncodedContent([new("key", "wrong-key-000000000000")]));
        Assert.Equal(HttpStatusCode.Redirect, bad.StatusCode);
        Assert.Equal("/?signin=failed", bad.Headers.Location?.ToString());

        var signin = await browser.PostAsync("/auth/signin", new FormUrlEncodedContent([new("key", ServerHost.OperatorKey)]));
        Assert.Equal(HttpStatusCode.Redirect, signin.StatusCode);
        var setCookie = string.Join(";", signin.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);

        var session = await browser.GetJsonAsync("/api/v1/session");
        Assert.Equal("operator", (string?)session["name"]);
        Assert.Equal("Operator", (string?)session["role"]);
        var token = (string)session["csrf_token"]!;

        var refused = await (await browser.PostAsync("/api/v1/queues/orders/pause", null)).JsonAsync(HttpStatusCode.Forbidden);
        Assert.Contains("CSRF", (string?)refused["detail"], StringComparison.Ordinal);
        Assert.False((await server.MillraceAdmin.ControlStateAsync("orders")).Paused);

        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/queues/orders/pause");
        request.Headers.Add("X-CSRF-Token", token);
        await (await browser.SendAsync(request)).JsonAsync(HttpStatusCode.OK);
        Assert.True((await server.MillraceAdmin.ControlStateAsync("orders")).Paused);

        // Operator cannot do admin things through the cookie either.
        var terminate = new HttpRequestMessage(HttpMethod.Post, "/api/v1/queues/orders/terminate") { Content = Http.Json("""{"confirm":"orders"}""") };
        terminate.Headers.Add("X-CSRF-Token", token);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(terminate)).StatusCode);

        var audit = await server.Viewer.GetJsonAsync("/api/v1/audit");
        Assert.Contains(audit["items"]!.AsArray(), e => (string?)e!["who"] == "operator" && (string?)e["path"] == "/auth/signin" && (int)e["status"]! == 302);
        Assert.Contains(audit["items"]!.AsArray(), e => (string?)e!["who"] == "(invalid key)" && (string?)e["path"] == "/auth/signin");
    }

    [Theory]
    [InlineData("Millrace:Server:Auth:Keys:0:Key", "short", "Millrace:Server:Auth:Keys:0:Key is 5 characters")]
    [InlineData("Millrace:Server:Auth:Keys:0:Name", "", "Millrace:Server:Auth:Keys:0:Name is empty")]
    [InlineData("Millrace:Server:Urls", "ftp://x", "Millrace:Server:Urls has 'ftp://x'")]
    [InlineData("Millrace:Server:AuditMaxLength", "1", "Millrace:Server:AuditMaxLength must be between 10 and 10000000 (was 1)")]
    [InlineData("Millrace:Server:DefaultQueue", "bad name", "Millrace:Server:DefaultQueue")]
    public async Task Given_an_invalid_setting_When_the_server_starts_Then_it_fails_naming_the_setting(string key, string value, string message)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var server = await ServerHost.StartAsync(settings: new Dictionary<string, string?> { [key] = value });
        });
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_web_app_without_AddMillrace_When_the_server_is_mapped_Then_it_fails_saying_what_to_add()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddMillraceServer(builder.Configuration);
        using var app = builder.Build();
        var error = Assert.Throws<InvalidOperationException>(() => app.MapMillraceServer());
        Assert.Contains("AddMillrace(", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Given_no_configured_key_When_the_server_starts_Then_a_generated_admin_key_works_and_nothing_else_does()
    {
        await using var server = await ServerHost.StartAsync(withKeys: false);
        var generated = MillraceServerApp.GeneratedAdminKey(server.Services);
        Assert.NotNull(generated);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Anonymous.GetAsync("/api/v1/queues")).StatusCode);
        using var admin = server.Client(generated!);
        var session = await admin.GetJsonAsync("/api/v1/session");
        Assert.Equal("Admin", (string?)session["role"]);
    }

    [Fact]
    public async Task Given_auth_disabled_for_local_development_When_called_without_a_key_Then_it_acts_as_admin_and_is_audited_as_such()
    {
        await using var server = await ServerHost.StartAsync(m => m.AddQueue("orders").AddConsumer("orders"),
            new Dictionary<string, string?> { ["Millrace:Server:Auth:DisableAuthUnsafeForLocalDevelopment"] = "true" }, withKeys: false);
        await (await server.Anonymous.PostAsync("/api/v1/queues/orders/pause", null)).JsonAsync(HttpStatusCode.OK);
        var audit = await server.Anonymous.GetJsonAsync("/api/v1/audit");
        Assert.Equal("anonymous (auth disabled)", (string?)audit["items"]![0]!["who"]);
    }
}
