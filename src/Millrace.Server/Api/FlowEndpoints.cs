using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Millrace.Server;

/// <summary>Concurrency limits (seed 002) and rate limits: read (viewer), change (admin); cleanup of a queue (operator).</summary>
internal static class FlowEndpoints
{
    private const string ConcurrencyExample = """{"task_type":"example","max_concurrency":3}""";
    private const string RateExample = """{"scope":"type","key":"example","per_second":50,"burst":5}""";
    private const string CleanupExample = """{"policy":"normal"}""";

    public static void Map(RouteGroupBuilder api, RouteGroupBuilder queue, Func<RouteHandlerBuilder, MillraceRole, RouteHandlerBuilder> mutating)
    {
        api.MapGet("/concurrency", async (MillraceAdmin admin, CancellationToken ct) =>
        {
            var limits = await admin.ConcurrencyLimitsAsync(ct).ConfigureAwait(false);
            var list = new List<object>();
            foreach (var (type, limit) in limits.OrderBy(l => l.Key, StringComparer.Ordinal))
            {
                list.Add(new { TaskType = type, MaxConcurrency = limit, InUse = await admin.ConcurrencyInUseAsync(type, ct).ConfigureAwait(false) });
            }

            return TypedResults.Ok(new { Limits = list });
        }).WithSummary("Concurrency limits by task type, with how many run now (seed 002).");

        mutating(api.MapPost("/concurrency", async (HttpContext http, MillraceAdmin admin, CancellationToken ct) =>
        {
            var (body, error) = await RequestBody.ReadAsync<ConcurrencyRequest>(http, 4096, ConcurrencyExample).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }

            if (string.IsNullOrWhiteSpace(body!.TaskType))
            {
                return Problems.BadRequest($"task_type is missing, e.g. {ConcurrencyExample}. Nothing was changed.");
            }

            if (ControlEndpoints.ValidateType(body.TaskType) is { } bad)
            {
                return bad;
            }

            if (body.MaxConcurrency is < 0 or > 1_000_000)
            {
                return Problems.BadRequest($"max_concurrency must be between 0 and 1000000, or null to remove the limit (was {body.MaxConcurrency}). Nothing was changed.");
            }

            await admin.SetConcurrencyLimitAsync(body.TaskType, body.MaxConcurrency, ct).ConfigureAwait(false);
            return TypedResults.Ok(new { body.TaskType, body.MaxConcurrency, Removed = body.MaxConcurrency is null });
        }).WithSummary("Sets a task type's concurrency limit across every worker; max_concurrency null removes it (seed 002).")
          .Accepts<ConcurrencyRequest>("application/json"), MillraceRole.Admin);

        api.MapGet("/rate-limits", async (MillraceAdmin admin, CancellationToken ct) =>
            TypedResults.Ok(new { Limits = await admin.RateLimitsAsync(ct).ConfigureAwait(false) }))
            .WithSummary("Rate limits by type and by tenant.");

        mutating(api.MapPost("/rate-limits", async (HttpContext http, MillraceAdmin admin, CancellationToken ct) =>
        {
            var (body, error) = await RequestBody.ReadAsync<RateLimitRequest>(http, 4096, RateExample).ConfigureAwait(false);
            if (error is not null)
            {
                return error;
            }

            if (ParseScope(body!.Scope) is not { } scope)
            {
                return Problems.BadRequest($"scope must be 'type' or 'tenant' (was {(body.Scope is null ? "missing" : $"'{body.Scope}'")}), e.g. {RateExample}. Nothing was changed.");
            }

            if (string.IsNullOrWhiteSpace(body.Key))
            {
                return Problems.BadRequest($"key is missing: name the {body.Scope} the limit applies to, e.g. {RateExample}. Nothing was changed.");
            }

            if (body.PerSecond is not { } perSecond)
            {
                return Problems.BadRequest($"per_second is missing, e.g. {RateExample}. Nothing was changed.");
            }

            var limit = new RateLimit(scope, body.Key, perSecond, body.Burst ?? RateLimit.DefaultBurst(perSecond));
            limit.Validate();   // ArgumentException: 400 with the library's message
            await admin.SetRateLimitAsync(limit, ct).ConfigureAwait(false);
            return TypedResults.Ok(limit);
        }).WithSummary("Sets a rate limit (token bucket shared by every worker) for a type or a tenant.")
          .Accepts<RateLimitRequest>("application/json"), MillraceRole.Admin);

        mutating(api.MapDelete("/rate-limits/{scope}/{key}", async (string scope, string key, MillraceAdmin admin, CancellationToken ct) =>
        {
            if (ParseScope(scope) is not { } parsed)
            {
                return Problems.BadRequest($"scope must be 'type' or 'tenant' (was '{scope}'). Nothing was changed.");
            }

            return await admin.RemoveRateLimitAsync(parsed, key, ct).ConfigureAwait(false)
                ? TypedResults.Ok(new { Scope = parsed, Key = key, Removed = true })
                : Problems.NotFound($"There is no {scope} rate limit for '{key}'.");
        }).WithSummary("Removes a rate limit."), MillraceRole.Admin);

        mutating(queue.MapPost("/cleanup", async (string queue, HttpContext http, MillraceAdmin admin, CancellationToken ct) =>
        {
            RetentionPolicy? policy = null;
            if (http.Request.ContentLength is > 0 || http.Request.ContentType is not null)
            {
                var (body, error) = await RequestBody.ReadAsync<CleanupRequest>(http, 4096, CleanupExample).ConfigureAwait(false);
                if (error is not null)
                {
                    return error;
                }

                policy = body!.Policy is null ? null : RetentionPolicy.FromName(body.Policy);   // ArgumentException: 400
            }

            var result = await admin.CleanupAsync(queue, policy, ct).ConfigureAwait(false);
            return TypedResults.Ok(new { Queue = queue, result.Deleted, result.IgnoredGroups, Policy = result.Policy.ToString() });
        }).WithSummary("Deletes entries every group has acknowledged, older than the queue's retention policy (or the class named in 'policy': critical, high, normal, low).")
          .Accepts<CleanupRequest>("application/json"), MillraceRole.Operator);
    }

    private static RateLimitScope? ParseScope(string? scope) => scope?.ToLowerInvariant() switch
    {
        "type" => RateLimitScope.Type,
        "tenant" => RateLimitScope.Tenant,
        _ => null,
    };
}
