using System.Globalization;
using Millrace.Redis;

namespace Millrace;

public sealed partial class MillraceAdmin
{
    /// <summary>The concurrency limits of this namespace: type to the most handlers of it running at once over all workers.</summary>
    public async Task<IReadOnlyDictionary<string, int>> ConcurrencyLimitsAsync(CancellationToken cancellationToken = default)
    {
        var limits = await LimitFieldsAsync(cancellationToken).ConfigureAwait(false);
        return limits
            .Where(f => f.Key.StartsWith("concurrency:", StringComparison.Ordinal))
            .ToDictionary(f => f.Key["concurrency:".Length..], f => int.Parse(f.Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }

    /// <summary>
    /// Sets (or with null removes) the concurrency limit of a type. Takes effect at the next permit taken;
    /// handlers already running finish. 0 lets no new handler of the type start.
    /// </summary>
    public async Task SetConcurrencyLimitAsync(string type, int? limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        if (limit is < 0 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"The concurrency limit of '{type}' is {limit}; allowed 0 to 1000000, or none.");
        }

        var field = FlowKeys.ConcurrencyField(type);
        await Redis.ExecuteAsync(
            limit is { } n
                ? new RedisCommand("HSET", [Flow.Limits, field, n], 0)
                : new RedisCommand("HDEL", [Flow.Limits, field], 0),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How many permits of a type's concurrency limit are held now (leases not yet expired).</summary>
    public async Task<int> ConcurrencyInUseAsync(string type, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        var time = await Redis.ExecuteAsync(new RedisCommand("TIME", []), cancellationToken).ConfigureAwait(false);
        var nowMs = (long.Parse(time[0].AsString()!, CultureInfo.InvariantCulture) * 1000) + (long.Parse(time[1].AsString()!, CultureInfo.InvariantCulture) / 1000);
        var reply = await Redis.ExecuteAsync(new RedisCommand("ZCOUNT", [Flow.Semaphore(type), $"({nowMs}", "+inf"], 0), cancellationToken).ConfigureAwait(false);
        return (int)reply.AsInt64();
    }

    /// <summary>The rate limits of this namespace.</summary>
    public async Task<IReadOnlyList<RateLimit>> RateLimitsAsync(CancellationToken cancellationToken = default)
    {
        var limits = await LimitFieldsAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<RateLimit>();
        foreach (var (field, value) in limits)
        {
            var scope = field.StartsWith("rate:type:", StringComparison.Ordinal) ? RateLimitScope.Type
                : field.StartsWith("rate:tenant:", StringComparison.Ordinal) ? RateLimitScope.Tenant
                : (RateLimitScope?)null;
            if (scope is null)
            {
                continue;
            }

            var key = field[FlowKeys.RateField(scope.Value, "").Length..];
            var colon = value.IndexOf(':', StringComparison.Ordinal);
            result.Add(new RateLimit(scope.Value, key, double.Parse(value[..colon], CultureInfo.InvariantCulture), int.Parse(value[(colon + 1)..], CultureInfo.InvariantCulture)));
        }

        return [.. result.OrderBy(r => r.Scope).ThenBy(r => r.Key, StringComparer.Ordinal)];
    }

    /// <summary>Sets a rate limit; the next token taken uses it (the bucket keeps the tokens it has, capped at the new burst).</summary>
    public async Task SetRateLimitAsync(RateLimit limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limit);
        limit.Validate();
        var value = string.Create(CultureInfo.InvariantCulture, $"{limit.PerSecond}:{limit.Burst}");
        await Redis.ExecuteAsync(new RedisCommand("HSET", [Flow.Limits, FlowKeys.RateField(limit.Scope, limit.Key), value], 0), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes a rate limit; returns false when there was none.</summary>
    public async Task<bool> RemoveRateLimitAsync(RateLimitScope scope, string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        var removed = await Redis.ExecuteAsync(new RedisCommand("HDEL", [Flow.Limits, FlowKeys.RateField(scope, key)], 0), cancellationToken).ConfigureAwait(false);
        await Redis.ExecuteAsync(new RedisCommand("DEL", [Flow.Bucket(scope, key)], 0), cancellationToken).ConfigureAwait(false);
        return removed.AsInt64() == 1;
    }

    private FlowKeys Flow => _runtime.Flow.Keys;

    private async Task<Dictionary<string, string>> LimitFieldsAsync(CancellationToken cancellationToken)
    {
        var reply = await Redis.ExecuteAsync(new RedisCommand("HGETALL", [Flow.Limits], 0), cancellationToken).ConfigureAwait(false);
        return reply.AsPairs().ToDictionary(p => p.Key, p => p.Value.AsString()!, StringComparer.Ordinal);
    }
}
