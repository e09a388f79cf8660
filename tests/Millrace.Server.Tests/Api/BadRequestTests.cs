using System.Net;
using System.Text;
using Millrace.Server.Tests.Support;

namespace Millrace.Server.Tests.Api;

/// <summary>Bad input is answered 4xx with a problem-details message that says what was wrong, and changes nothing.</summary>
public sealed class BadRequestTests
{
    private static readonly string Oversized = "\"" + new string('x', 2000) + "\"";

    /// <summary>(method, path, content type or null, body or null, expected status, a fragment of the expected detail).</summary>
    public static TheoryData<string, string, string?, string?, int, string> BadRequests => new()
    {
        { "POST", "/api/v1/tasks", "application/json", """{"type":""", 400, "not valid for this call" },
        { "POST", "/api/v1/tasks", "application/json", """{"payload":{}}""", 400, "type is missing" },
        { "POST", "/api/v1/tasks", "application/json", """{"queue":"nope","type":"ok"}""", 404, "There is no queue 'nope'" },
        { "POST", "/api/v1/tasks", "application/json", """{"queue":"bad name!","type":"ok"}""", 400, "is not valid" },
        { "POST", "/api/v1/tasks", "application/json", "{\"queue\":\"orders\",\"type\":\"ok\",\"payload\":" + Oversized + "}", 413, "the limit is 1024" },
        { "POST", "/api/v1/tasks", "text/plain", """{"type":"ok"}""", 415, "Content-Type: application/json" },
        { "POST", "/api/v1/tasks", "application/json", "", 400, "The body is empty" },
        { "POST", "/api/v1/tasks", "application/json", """{"queue":"orders","type":"ok","priorty":1}""", 400, "priorty" },
        { "POST", "/api/v1/tasks", "application/json", """{"queue":"orders","type":"ok","priority":-1}""", 400, "priority must be between 0 and 1000" },
        { "POST", "/api/v1/tasks", "application/json", """{"queue":"orders","type":"ok","delay_seconds":-3}""", 400, "delay_seconds must be between" },
        { "POST", "/api/v1/tasks", "application/json", """{"queue":"orders","type":5}""", 400, "not valid for this call" },
        { "POST", "/api/v1/tasks", "application/json", "[]", 400, "not valid for this call" },
        { "POST", "/api/v1/tasks", "application/json", """{"queue":"orders","type":"ok","id":"has space"}""", 400, "is not a message id" },
        { "GET", "/api/v1/tasks?limit=-1", null, null, 400, "limit must be between 1 and 1000" },
        { "GET", "/api/v1/tasks?status=bogus", null, null, 400, "is not a task state" },
        { "GET", "/api/v1/tasks?cursor=zzz", null, null, 400, "cursor" },
        { "GET", "/api/v1/queues/nope", null, null, 404, "There is no queue 'nope'" },
        { "POST", "/api/v1/queues/nope/pause", null, null, 404, "There is no queue 'nope'" },
        { "POST", "/api/v1/queues/bad%20name/pause", null, null, 400, "is not valid" },
        { "GET", "/api/v1/queues/orders/dlq/x/y", null, null, 400, "is not a dead-letter id" },
        { "POST", "/api/v1/queues/orders/dlq/9/1-0/requeue", null, null, 400, "partition below 1" },
        { "POST", "/api/v1/queues/orders/dlq/0/1-0/requeue", null, null, 404, "has no dead letter 0/1-0" },
        { "POST", "/api/v1/queues/orders/dlq/delete", "application/json", """{"ids":["{dlq}","junk"]}""", 400, "'junk' is not a dead-letter id" },
        { "POST", "/api/v1/queues/orders/dlq/delete", "application/json", """{"ids":[]}""", 400, "ids is missing or empty" },
        { "POST", "/api/v1/queues/orders/dlq/requeue", "application/json", """{"dry_run":"yes"}""", 400, "not valid for this call" },
        { "GET", "/api/v1/queues/orders/dlq?limit=0", null, null, 400, "limit must be between 1 and 1000" },
        { "POST", "/api/v1/queues/orders/terminate", "application/json", "{}", 400, "To confirm, send the queue's name" },
        { "POST", "/api/v1/queues/orders/terminate", "application/json", """{"confirm":"ORDERS"}""", 400, "(got 'ORDERS')" },
        { "POST", "/api/v1/concurrency", "application/json", """{"task_type":"ok","max_concurrency":-1}""", 400, "max_concurrency must be between 0 and 1000000" },
        { "POST", "/api/v1/concurrency", "application/json", """{"max_concurrency":3}""", 400, "task_type is missing" },
        { "POST", "/api/v1/rate-limits", "application/json", """{"scope":"planet","key":"x","per_second":1}""", 400, "scope must be 'type' or 'tenant'" },
        { "POST", "/api/v1/rate-limits", "application/json", """{"scope":"type","key":"ok","per_second":-5}""", 400, "allowed above 0" },
        { "DELETE", "/api/v1/rate-limits/planet/x", null, null, 400, "scope must be 'type' or 'tenant'" },
        { "POST", "/api/v1/queues/orders/cleanup", "application/json", """{"policy":"forever"}""", 400, "is not a retention class" },
        { "GET", "/api/v1/audit?limit=5000", null, null, 400, "limit must be between 1 and 1000" },
        { "GET", "/api/v1/audit?before=yesterday", null, null, 400, "before must be an audit entry id" },
        { "GET", "/api/v1/stats?minutes=0", null, null, 400, "minutes must be between 1 and 120" },
        { "GET", "/api/v1/events?count=-2", null, null, 400, "count must be between 1 and 1000" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Given_bad_input_When_sent_Then_a_4xx_problem_says_what_was_wrong_and_nothing_changes(string method, string path, string? contentType, string? body, int status, string fragment)
    {
        await using var scenario = await Scenario.StartAsync(new Dictionary<string, string?> { ["Millrace:MaxPayloadBytes"] = "1024" });
        var dlq = await scenario.DeadLetterAsync();
        var before = await StateSnapshot.TakeAsync(scenario.Server);

        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body.Replace("{dlq}", dlq, StringComparison.Ordinal), Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType!);
        }

        var response = await scenario.Server.Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{method} {path}: expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = (string?)System.Text.Json.Nodes.JsonNode.Parse(text)!["detail"];
        Assert.True(detail?.Contains(fragment, StringComparison.Ordinal) == true, $"{method} {path}: expected the detail to contain \"{fragment}\", got: {detail}");
        Assert.Equal(before, await StateSnapshot.TakeAsync(scenario.Server));
    }
}
