using System.Net;
using System.Text.Json.Nodes;
using Millrace.Redis.Tests.Support;
using Millrace.Server.Tests.Support;

namespace Millrace.Server.Tests.Api;

/// <summary>Each endpoint does what it says, against a real Redis and a real in-process worker.</summary>
public sealed class EndpointTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Given_a_task_published_over_http_When_the_worker_handles_it_Then_the_task_endpoints_show_it_succeeded()
    {
        await using var scenario = await Scenario.StartAsync();
        var op = scenario.Server.Operator;

        var created = await (await op.PostAsync("/api/v1/tasks", Http.Json("""{"queue":"orders","type":"ok","payload":{"message":"Hello"},"priority":1,"headers":{"h1":"v1"}}""")))
            .JsonAsync(HttpStatusCode.Created);
        var id = (string)created["id"]!;
        Assert.Equal("pending", (string?)created["status"]);
        Assert.Equal("orders", (string?)created["queue"]);

        var task = await Eventually.GetAsync(() => scenario.Server.Viewer.GetJsonAsync($"/api/v1/tasks/{id}"), t => (string?)t["status"] == "succeeded", Within, $"task {id} succeeded");
        Assert.Equal("ok", (string?)task["type"]);
        Assert.Equal("""{"message":"Hello"}""", (string?)task["payload"]!["data"]);
        Assert.Equal("v1", (string?)task["headers"]!["h1"]);
        Assert.Equal(1, scenario.Handled[id]);

        var list = await scenario.Server.Viewer.GetJsonAsync("/api/v1/tasks?status=succeeded&type=ok&limit=10");
        Assert.Contains(list["items"]!.AsArray(), t => (string?)t!["id"] == id);
        var pending = await scenario.Server.Viewer.GetJsonAsync("/api/v1/tasks?status=pending&limit=10");
        Assert.DoesNotContain(pending["items"]!.AsArray(), t => (string?)t!["id"] == id);

        var events = await scenario.Server.Viewer.GetJsonAsync("/api/v1/events?count=100");
        var mine = events["items"]!.AsArray().Where(e => (string?)e!["message_id"] == id).Select(e => (string?)e!["event"]).ToArray();
        Assert.Contains("published", mine);
        Assert.Contains("succeeded", mine);
    }

    [Fact]
    public async Task Given_a_string_payload_When_published_Then_the_handler_gets_its_text_and_a_duplicate_dedup_key_adds_nothing()
    {
        await using var scenario = await Scenario.StartAsync();
        var first = await scenario.Server.Operator.PostJsonAsync("/api/v1/tasks", """{"queue":"orders","type":"ok","payload":"default-task","dedup_key":"d1"}""", HttpStatusCode.Created);
        var second = await scenario.Server.Operator.PostJsonAsync("/api/v1/tasks", """{"queue":"orders","type":"ok","payload":"default-task","dedup_key":"d1"}""");
        Assert.True((bool)second["duplicate"]!);
        Assert.Equal((string?)first["id"], (string?)second["id"]);
        var id = (string)first["id"]!;
        var task = await Eventually.GetAsync(() => scenario.Server.Viewer.GetJsonAsync($"/api/v1/tasks/{id}"), t => (string?)t["status"] == "succeeded", Within, "task succeeded");
        Assert.Equal("default-task", (string?)task["payload"]!["data"]);
    }

    [Fact]
    public async Task Given_a_queue_with_a_consumer_When_its_reads_are_called_Then_they_describe_it()
    {
        await using var scenario = await Scenario.StartAsync();
        var viewer = scenario.Server.Viewer;
        await scenario.PublishAsync("ok");
        await scenario.DeadLetterAsync();

        var queues = await viewer.GetJsonAsync("/api/v1/queues");
        Assert.Equal("orders", (string?)queues["queues"]![0]!["name"]);

        var detail = await viewer.GetJsonAsync("/api/v1/queues/orders");
        Assert.Equal(1, (int)detail["partitions"]!);
        Assert.Equal(1, (long)detail["dead_letters"]!);
        Assert.Equal("workers", (string?)detail["groups"]![0]!["name"]);
        Assert.NotEmpty(detail["groups"]![0]!["consumers"]!.AsArray());
        Assert.NotNull(detail["groups"]![0]!["consumers"]![0]!["idle_ms"]);

        var stream = await viewer.GetJsonAsync("/api/v1/stream?queue=orders");
        Assert.True((long)stream["stream_info"]!["length"]! >= 2);
        Assert.Equal(1, (int)stream["stream_info"]!["groups"]!);

        var stats = await Eventually.GetAsync(() => viewer.GetJsonAsync("/api/v1/stats?minutes=5"), s => (long)s["success_tasks"]! >= 1 && (long)s["failed_tasks"]! >= 1, Within, "stats counting the tasks");
        Assert.True((bool)stats["is_running"]!);
        Assert.StartsWith("millrace-", (string?)stats["instance_id"], StringComparison.Ordinal);
        Assert.Equal(1L, (long)stats["dead_letters"]!);

        var seed000 = await viewer.GetJsonAsync("/api/stats");
        Assert.Equal(1L, (long)seed000["total_dead_letters"]!);

        var workers = await Eventually.GetAsync(() => viewer.GetJsonAsync("/api/v1/workers"), w => (int)w["total_workers"]! >= 1, Within, "this process's worker listed");
        Assert.Contains("orders", workers["workers"]![0]!["queues"]!.AsArray().Select(q => (string?)q));
        Assert.True((double)workers["workers"]![0]!["heartbeat_age_ms"]! >= 0);
        Assert.True((long)workers["uptime"]! > 0);

        var health = await viewer.GetJsonAsync("/api/v1/health");
        Assert.Equal("healthy", (string?)health["status"]);
        Assert.Equal("healthy", (string?)health["checks"]!["redis"]!["status"]);
    }

    [Fact]
    public async Task Given_dead_letters_When_inspected_requeued_and_deleted_one_and_in_bulk_Then_the_dead_letter_queue_follows()
    {
        await using var scenario = await Scenario.StartAsync();
        var viewer = scenario.Server.Viewer;
        var op = scenario.Server.Operator;
        var flaky = await scenario.DeadLetterAsync("flaky");
        var failA = await scenario.DeadLetterAsync();
        var failB = await scenario.DeadLetterAsync();
        var failC = await scenario.DeadLetterAsync();

        var list = await viewer.GetJsonAsync("/api/v1/queues/orders/dlq?limit=10");
        Assert.Equal(4, (long)list["total"]!);
        var one = await viewer.GetJsonAsync($"/api/v1/queues/orders/dlq/{flaky}");
        Assert.Equal("flaky", (string?)one["type"]);
        Assert.Contains("fails the first time", (string?)one["error_message"], StringComparison.Ordinal);
        Assert.NotNull(one["error_stack"]);

        // One requeue: the flaky task succeeds on its second run.
        var messageId = (string)one["message_id"]!;
        await op.PostJsonAsync($"/api/v1/queues/orders/dlq/{flaky}/requeue", "{}");
        await Eventually.GetAsync(() => Task.FromResult(scenario.Handled.GetValueOrDefault(messageId)), n => n == 1, Within, "the requeued flaky task handled");

        // Bulk requeue, dry run first: reports and moves nothing.
        var dry = await op.PostJsonAsync("/api/v1/queues/orders/dlq/requeue", """{"type":"fail","dry_run":true}""");
        Assert.Equal(3, (int)dry["matched"]!);
        Assert.Equal(0, (int)dry["requeued"]!);
        Assert.Equal(3, (long)(await viewer.GetJsonAsync("/api/v1/queues/orders/dlq"))["total"]!);

        // Delete one, then bulk delete one, then purge the rest (admin).
        await (await op.DeleteAsync($"/api/v1/queues/orders/dlq/{failA}")).JsonAsync(HttpStatusCode.OK);
        await (await op.DeleteAsync($"/api/v1/queues/orders/dlq/{failA}")).JsonAsync(HttpStatusCode.NotFound);
        var bulk = await op.PostJsonAsync("/api/v1/queues/orders/dlq/delete", $$"""{"ids":["{{failB}}"]}""");
        Assert.Equal(1, (long)bulk["count"]!);
        var purged = await (await scenario.Server.Admin.DeleteAsync("/api/v1/queues/orders/dlq")).JsonAsync(HttpStatusCode.OK);
        Assert.Equal(1, (long)purged["count"]!);
        Assert.Equal(0, (long)(await viewer.GetJsonAsync("/api/v1/queues/orders/dlq"))["total"]!);
        _ = failC;
    }

    [Fact]
    public async Task Given_a_queue_When_paused_resumed_types_paused_and_messages_stopped_Then_its_control_state_follows()
    {
        await using var scenario = await Scenario.StartAsync();
        var op = scenario.Server.Operator;
        var admin = scenario.Server.MillraceAdmin;

        await op.PostJsonAsync("/api/v1/queues/orders/pause", "{}");
        Assert.True((await admin.ControlStateAsync("orders")).Paused);
        Assert.True((bool)(await scenario.Server.Viewer.GetJsonAsync("/api/v1/queues/orders"))["paused"]!);
        await op.PostJsonAsync("/api/v1/queues/orders/resume", "{}");
        Assert.False((await admin.ControlStateAsync("orders")).Paused);

        await op.PostJsonAsync("/api/v1/queues/orders/types/ok/pause", "{}");
        Assert.Equal(["ok"], (await admin.ControlStateAsync("orders")).PausedTypes);
        await op.PostJsonAsync("/api/v1/queues/orders/types/ok/resume", "{}");
        Assert.Empty((await admin.ControlStateAsync("orders")).PausedTypes);

        var stopped = await op.PostJsonAsync("/api/v1/queues/orders/messages/m-42/stop", "{}");
        Assert.Equal("m-42", (string?)stopped["target"]);
        var members = await scenario.Server.Redis.ExecuteAsync(new Millrace.Redis.RedisCommand("SMEMBERS", [$"{scenario.Server.Prefix}:stopped:orders"], 0));
        Assert.Equal(["m-42"], members.Items.Select(i => i.AsString()));
        await op.PostJsonAsync("/api/v1/queues/orders/messages/m-42/resume", "{}");
        members = await scenario.Server.Redis.ExecuteAsync(new Millrace.Redis.RedisCommand("SMEMBERS", [$"{scenario.Server.Prefix}:stopped:orders"], 0));
        Assert.Empty(members.Items);
    }

    [Fact]
    public async Task Given_a_queue_When_terminate_is_confirmed_with_its_name_Then_it_is_gone_and_without_it_nothing_happens()
    {
        await using var scenario = await Scenario.StartAsync();
        await scenario.DeadLetterAsync();
        var refused = await (await scenario.Server.Admin.PostAsync("/api/v1/queues/orders/terminate", Http.Json("""{"confirm":"order"}""")))
            .JsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("To confirm, send the queue's name", (string?)refused["detail"], StringComparison.Ordinal);
        Assert.True(await scenario.Server.MillraceAdmin.QueueExistsAsync("orders"));

        await scenario.Server.Admin.PostJsonAsync("/api/v1/queues/orders/terminate", """{"confirm":"orders"}""");
        Assert.False(await scenario.Server.MillraceAdmin.QueueExistsAsync("orders"));
        await (await scenario.Server.Viewer.GetAsync("/api/v1/queues/orders")).JsonAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Given_limits_When_set_read_and_removed_over_http_Then_the_library_sees_them()
    {
        await using var scenario = await Scenario.StartAsync();
        var adminKey = scenario.Server.Admin;
        var admin = scenario.Server.MillraceAdmin;

        await adminKey.PostJsonAsync("/api/v1/concurrency", """{"task_type":"ok","max_concurrency":3}""");
        Assert.Equal(3, (await admin.ConcurrencyLimitsAsync())["ok"]);
        var read = await scenario.Server.Viewer.GetJsonAsync("/api/v1/concurrency");
        Assert.Equal("ok", (string?)read["limits"]![0]!["task_type"]);
        Assert.Equal(3, (int)read["limits"]![0]!["max_concurrency"]!);
        await adminKey.PostJsonAsync("/api/v1/concurrency", """{"task_type":"ok","max_concurrency":null}""");
        Assert.Empty(await admin.ConcurrencyLimitsAsync());

        await adminKey.PostJsonAsync("/api/v1/rate-limits", """{"scope":"tenant","key":"acme","per_second":20,"burst":4}""");
        var limit = Assert.Single(await admin.RateLimitsAsync());
        Assert.Equal(new RateLimit(RateLimitScope.Tenant, "acme", 20, 4), limit);
        var rates = await scenario.Server.Viewer.GetJsonAsync("/api/v1/rate-limits");
        Assert.Equal("tenant", (string?)rates["limits"]![0]!["scope"]);
        await (await adminKey.DeleteAsync("/api/v1/rate-limits/tenant/acme")).JsonAsync(HttpStatusCode.OK);
        Assert.Empty(await admin.RateLimitsAsync());
        await (await adminKey.DeleteAsync("/api/v1/rate-limits/tenant/acme")).JsonAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Given_handled_messages_When_cleanup_runs_with_a_policy_Then_it_answers_what_it_deleted()
    {
        await using var scenario = await Scenario.StartAsync();
        var id = await scenario.PublishAsync("ok");
        await Eventually.GetAsync(() => Task.FromResult(scenario.Handled.GetValueOrDefault(id)), n => n == 1, Within, "handled");
        var result = await scenario.Server.Operator.PostJsonAsync("/api/v1/queues/orders/cleanup", """{"policy":"low"}""");
        Assert.Equal("orders", (string?)result["queue"]);
        Assert.True((long)result["deleted"]! >= 0);
        Assert.NotNull(result["policy"]);
        var defaults = await (await scenario.Server.Operator.PostAsync("/api/v1/queues/orders/cleanup", null)).JsonAsync(HttpStatusCode.OK);
        Assert.NotNull(defaults["deleted"]);
    }

    [Fact]
    public async Task Given_the_server_When_the_openapi_document_and_probes_are_read_Then_they_describe_the_api_without_a_key()
    {
        await using var server = await ServerHost.StartAsync();
        var doc = await server.Anonymous.GetJsonAsync("/openapi/v1.json");
        var paths = doc["paths"]!.AsObject().Select(p => p.Key).ToArray();
        foreach (var path in new[] { "/api/stats", "/api/v1/tasks", "/api/v1/tasks/{id}", "/api/v1/stream", "/api/v1/workers", "/api/v1/stats", "/api/v1/concurrency", "/api/v1/health", "/api/v1/queues/{queue}/terminate", "/api/v1/audit" })
        {
            Assert.Contains(path, paths);
        }

        Assert.Equal("live", (string?)(await server.Anonymous.GetJsonAsync("/health/live"))["status"]);
        Assert.Equal("healthy", (string?)(await server.Anonymous.GetJsonAsync("/health/ready"))["status"]);
    }
}
