using System.Net;
using System.Text.Json.Nodes;
using Millrace.Server.Tests.Support;

namespace Millrace.Server.Tests.Api;

/// <summary>Every endpoint refuses a call without a key (401), with an unknown key (401) and with a role below its own (403), changing nothing.</summary>
public sealed class AuthTests
{
    /// <summary>(method, path, body, the lowest role allowed). {dlq} is replaced with a real dead-letter id.</summary>
    public static TheoryData<string, string, string?, string> Endpoints => new()
    {
        { "GET", "/api/stats", null, "Viewer" },
        { "GET", "/api/v1/stats", null, "Viewer" },
        { "GET", "/api/v1/stream?queue=orders", null, "Viewer" },
        { "GET", "/api/v1/workers", null, "Viewer" },
        { "GET", "/api/v1/health", null, "Viewer" },
        { "GET", "/api/v1/queues", null, "Viewer" },
        { "GET", "/api/v1/queues/orders", null, "Viewer" },
        { "GET", "/api/v1/queues/orders/dlq", null, "Viewer" },
        { "GET", "/api/v1/queues/orders/dlq/{dlq}", null, "Viewer" },
        { "GET", "/api/v1/tasks", null, "Viewer" },
        { "GET", "/api/v1/tasks/0190-unknown", null, "Viewer" },
        { "GET", "/api/v1/concurrency", null, "Viewer" },
        { "GET", "/api/v1/rate-limits", null, "Viewer" },
        { "GET", "/api/v1/audit", null, "Viewer" },
        { "GET", "/api/v1/events", null, "Viewer" },
        { "GET", "/api/v1/session", null, "Viewer" },
        { "GET", "/metrics", null, "Viewer" },
        { "POST", "/api/v1/tasks", """{"queue":"orders","type":"ok","payload":{}}""", "Operator" },
        { "POST", "/api/v1/queues/orders/pause", null, "Operator" },
        { "POST", "/api/v1/queues/orders/resume", null, "Operator" },
        { "POST", "/api/v1/queues/orders/types/ok/pause", null, "Operator" },
        { "POST", "/api/v1/queues/orders/types/ok/resume", null, "Operator" },
        { "POST", "/api/v1/queues/orders/messages/m1/stop", null, "Operator" },
        { "POST", "/api/v1/queues/orders/messages/m1/resume", null, "Operator" },
        { "POST", "/api/v1/queues/orders/dlq/{dlq}/requeue", null, "Operator" },
        { "DELETE", "/api/v1/queues/orders/dlq/{dlq}", null, "Operator" },
        { "POST", "/api/v1/queues/orders/dlq/requeue", """{"dry_run":false}""", "Operator" },
        { "POST", "/api/v1/queues/orders/dlq/delete", """{"ids":["{dlq}"]}""", "Operator" },
        { "POST", "/api/v1/queues/orders/cleanup", null, "Operator" },
        { "DELETE", "/api/v1/queues/orders/dlq", null, "Admin" },
        { "POST", "/api/v1/queues/orders/terminate", """{"confirm":"orders"}""", "Admin" },
        { "POST", "/api/v1/concurrency", """{"task_type":"ok","max_concurrency":3}""", "Admin" },
        { "POST", "/api/v1/rate-limits", """{"scope":"type","key":"ok","per_second":5}""", "Admin" },
        { "DELETE", "/api/v1/rate-limits/type/ok", null, "Admin" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Given_each_endpoint_When_called_without_a_key_with_a_wrong_key_or_a_lower_role_Then_401_or_403_and_nothing_changes(string method, string path, string? body, string lowest)
    {
        await using var scenario = await Scenario.StartAsync();
        var server = scenario.Server;
        var dlq = await scenario.DeadLetterAsync();
        path = path.Replace("{dlq}", dlq, StringComparison.Ordinal);
        body = body?.Replace("{dlq}", dlq, StringComparison.Ordinal);
        var before = await StateSnapshot.TakeAsync(server);

        HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null)
            {
                request.Content = Http.Json(body);
            }

            return request;
        }

        var none = await server.Anonymous.SendAsync(Request());
        var noneBody = await none.Content.ReadAsStringAsync();
        Assert.True(none.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} without a key: expected 401, got {(int)none.StatusCode}: {noneBody}");
        Assert.Contains("X-Api-Key", noneBody, StringComparison.Ordinal);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);

        using var wrong = server.Client("not-a-key-of-this-server-0000");
        var wrongAnswer = await wrong.SendAsync(Request());
        Assert.True(wrongAnswer.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with a wrong key: expected 401, got {(int)wrongAnswer.StatusCode}");
        Assert.Contains("not valid", await wrongAnswer.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var roles = new[] { ("Viewer", server.Viewer), ("Operator", server.Operator), ("Admin", server.Admin) };
        var lowestIndex = Array.FindIndex(roles, r => r.Item1 == lowest);
        for (var i = 0; i < lowestIndex; i++)
        {
            var refused = await roles[i].Item2.SendAsync(Request());
            var text = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} as {roles[i].Item1}: expected 403, got {(int)refused.StatusCode}: {text}");
            Assert.Contains($"needs {lowest}", text, StringComparison.Ordinal);
        }

        Assert.Equal(before, await StateSnapshot.TakeAsync(server));

        // The lowest allowed role gets past authorization (its own answer is checked by the endpoint tests).
        var allowed = await roles[lowestIndex].Item2.SendAsync(Request());
        Assert.True(allowed.StatusCode is not HttpStatusCode.Unauthorized and not HttpStatusCode.Forbidden,
            $"{method} {path} as {lowest}: expected to be allowed, got {(int)allowed.StatusCode}: {await allowed.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task Given_a_refused_mutating_call_When_the_audit_log_is_read_Then_it_records_who_what_and_the_status()
    {
        await using var server = await ServerHost.StartAsync(m => m.AddQueue("orders").AddConsumer("orders"));
        Assert.Equal(HttpStatusCode.Forbidden, (await server.Viewer.PostAsync("/api/v1/queues/orders/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Anonymous.PostAsync("/api/v1/queues/orders/pause", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Operator.PostAsync("/api/v1/queues/orders/pause", null)).StatusCode);

        var audit = (await server.Viewer.GetJsonAsync("/api/v1/audit"))["items"]!.AsArray();
        Assert.Equal(3, audit.Count);
        Assert.Equal(("operator", "POST", "/api/v1/queues/orders/pause", 200), Entry(audit[0]!));
        Assert.Equal(("(no key)", "POST", "/api/v1/queues/orders/pause", 401), Entry(audit[1]!));
        Assert.Equal(("viewer", "POST", "/api/v1/queues/orders/pause", 403), Entry(audit[2]!));
        Assert.Equal("queue=orders", (string?)audit[0]!["target"]);
        Assert.Equal("Operator", (string?)audit[0]!["role"]);
        Assert.True(DateTimeOffset.Parse((string)audit[0]!["at"]!, System.Globalization.CultureInfo.InvariantCulture) > DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    private static (string, string, string, int) Entry(JsonNode e) => ((string)e["who"]!, (string)e["method"]!, (string)e["path"]!, (int)e["status"]!);
}
