using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;

namespace Millrace.Server.Tests.Support;

/// <summary>
/// A real Millrace server (Kestrel on 127.0.0.1, a free port) against the test Redis with a unique
/// key prefix, built by <see cref="MillraceServerApp.Build"/> as <c>millrace server</c> builds it.
/// Three keys are configured, one per role.
/// </summary>
public sealed class ServerHost : IAsyncDisposable
{
    public const string ViewerKey = "viewer-key-aaaaaaaaaaaaaaaa";
    public const string OperatorKey = "operator-key-bbbbbbbbbbbbbbbb";
    public const string AdminKey = "admin-key-cccccccccccccccccccc";

    private readonly WebApplication _app;

    private ServerHost(WebApplication app, string prefix, Uri address)
    {
        _app = app;
        Prefix = prefix;
        Address = address;
        Anonymous = new HttpClient { BaseAddress = address };
        Viewer = Client(ViewerKey);
        Operator = Client(OperatorKey);
        Admin = Client(AdminKey);
    }

    public string Prefix { get; }

    public Uri Address { get; }

    public HttpClient Anonymous { get; }

    public HttpClient Viewer { get; }

    public HttpClient Operator { get; }

    public HttpClient Admin { get; }

    public IServiceProvider Services => _app.Services;

    public MillraceAdmin MillraceAdmin => Services.GetRequiredService<MillraceAdmin>();

    public IMessagePublisher Publisher => Services.GetRequiredService<IMessagePublisher>();

    public IRedisClient Redis => Services.GetRequiredService<IRedisClient>();

    public static async Task<ServerHost> StartAsync(Action<MillraceBuilder>? millrace = null, IDictionary<string, string?>? settings = null, bool withKeys = true)
    {
        await RedisTopology.StandaloneOptionsAsync();   // starts the test Redis when it is down
        var prefix = $"s{Guid.NewGuid():N}";
        var config = new Dictionary<string, string?>
        {
            ["Millrace:Redis"] = RedisTopology.Standalone.ToString(),
            ["Millrace:KeyPrefix"] = prefix,
            ["Millrace:Server:Urls"] = "http://127.0.0.1:0",
            ["Millrace:Server:SampleInterval"] = "00:00:00.250",
        };
        if (withKeys)
        {
            string[][] keys = [["viewer", ViewerKey, "Viewer"], ["operator", OperatorKey, "Operator"], ["admin", AdminKey, "Admin"]];
            for (var i = 0; i < keys.Length; i++)
            {
                config[$"Millrace:Server:Auth:Keys:{i}:Name"] = keys[i][0];
                config[$"Millrace:Server:Auth:Keys:{i}:Key"] = keys[i][1];
                config[$"Millrace:Server:Auth:Keys:{i}:Role"] = keys[i][2];
            }
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var app = MillraceServerApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(config);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            var m = builder.Services.AddMillrace();   // already bound to the configuration by MillraceServerApp.Build
            millrace?.Invoke(m);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ServerHost(app, prefix, new Uri(address));
    }

    public HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = Address };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Anonymous.Dispose();
        Viewer.Dispose();
        Operator.Dispose();
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Small helpers for JSON calls and their answers.</summary>
public static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<JsonNode> JsonAsync(this HttpResponseMessage response, System.Net.HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected} {expected} but got {(int)response.StatusCode} {response.StatusCode}: {body}");
        return JsonNode.Parse(body.Length == 0 ? "null" : body)!;
    }

    public static async Task<JsonNode> GetJsonAsync(this HttpClient client, string path, System.Net.HttpStatusCode expected = System.Net.HttpStatusCode.OK) =>
        await (await client.GetAsync(path)).JsonAsync(expected);

    public static async Task<JsonNode> PostJsonAsync(this HttpClient client, string path, string json, System.Net.HttpStatusCode expected = System.Net.HttpStatusCode.OK) =>
        await (await client.PostAsync(path, Json(json))).JsonAsync(expected);
}
