using System.Collections.Concurrent;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Per-type concurrency limits (a distributed semaphore whose permits are leases) and per-type and
/// per-tenant rate limits (token buckets), shared by every worker of a namespace. Types and tenants
/// with no limit cost nothing: the set of limited ones is cached and reread every
/// <see cref="FlowControlOptions.LimitsRefresh"/>. In one process only one waiter per type asks
/// Redis at a time, so a full semaphore is polled once per interval per process, not once per message.
/// </summary>
/// <remarks>
/// Crash safety: a permit is a lease in Redis; a worker that dies stops renewing it and it expires
/// after <see cref="FlowControlOptions.ConcurrencyLeaseTime"/>. A message waiting for a permit or a
/// token is held by its consumer (its stream lease renewed) and is reclaimed like any other if the worker dies.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "SemaphoreSlim holds no OS handle unless AvailableWaitHandle is used, which it is not here.")]
internal sealed class FlowControl(MillraceRuntime runtime)
{
    private static readonly TimeSpan PollMin = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan PollMax = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _turnstiles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _held = new(StringComparer.Ordinal);   // lease id -> type
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private volatile HashSet<string> _limited = [];
    private long _refreshedAt = long.MinValue;

    public FlowKeys Keys { get; } = new(runtime.Prefix);

    private FlowControlOptions Options => runtime.Options.Flow;

    /// <summary>
    /// Waits until a handler of <paramref name="type"/> (for <paramref name="tenant"/>) may start: a free
    /// concurrency permit, then a token from the type's and the tenant's buckets.
    /// </summary>
    public async ValueTask<FlowPermit> EnterAsync(string type, string? tenant, string leaseId, CancellationToken cancellationToken)
    {
        var (concurrency, typeRate, tenantRate) = await ApplyingAsync(type, tenant, cancellationToken).ConfigureAwait(false);
        if (!concurrency && !typeRate && !tenantRate)
        {
            return FlowPermit.None;
        }

        var lease = concurrency ? await AcquireAsync(type, leaseId, cancellationToken).ConfigureAwait(false) : null;
        try
        {
            if (typeRate || tenantRate)
            {
                await TakeTokenAsync(type, tenantRate ? tenant : null, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            await ExitAsync(new FlowPermit(type, lease)).ConfigureAwait(false);
            throw;
        }

        return new FlowPermit(type, lease);
    }

    /// <summary>
    /// One try, without waiting: the permit (and token) if free now, else null. The caller then queues
    /// the message and waits with <see cref="EnterAsync"/> elsewhere, so a busy limit never holds a handler slot.
    /// </summary>
    public async ValueTask<FlowPermit?> TryEnterAsync(string type, string? tenant, string leaseId, CancellationToken cancellationToken)
    {
        var (concurrency, typeRate, tenantRate) = await ApplyingAsync(type, tenant, cancellationToken).ConfigureAwait(false);
        if (!concurrency && !typeRate && !tenantRate)
        {
            return FlowPermit.None;
        }

        string? lease = null;
        if (concurrency)
        {
            var taken = await AcquireOnceAsync(type, leaseId, cancellationToken).ConfigureAwait(false);
            if (taken == 0)
            {
                return null;
            }

            lease = taken == 1 ? leaseId : null;
        }

        if ((typeRate || tenantRate) && await TakeTokenOnceAsync(type, tenantRate ? tenant : null, cancellationToken).ConfigureAwait(false) > 0)
        {
            await ExitAsync(new FlowPermit(type, lease)).ConfigureAwait(false);
            return null;
        }

        return new FlowPermit(type, lease);
    }

    /// <summary>Gives a permit back. If Redis cannot be reached the lease simply expires.</summary>
    public async ValueTask ExitAsync(FlowPermit permit)
    {
        if (permit.Lease is null)
        {
            return;
        }

        _held.TryRemove(permit.Lease, out _);
        await runtime.Redis.ExecuteAsync(new RedisCommand("ZREM", [Keys.Semaphore(permit.Type!), permit.Lease], 0), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Renews every permit this process holds, every third of the lease time, until stopped.</summary>
    public async Task RenewLoopAsync(Func<Exception, Task> onError, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(Options.ConcurrencyLeaseTime / 3, runtime.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                var byType = _held.GroupBy(h => h.Value, StringComparer.Ordinal).ToArray();
                if (byType.Length == 0)
                {
                    continue;
                }

                var leaseMs = (long)Options.ConcurrencyLeaseTime.TotalMilliseconds;
                var commands = byType.Select(g => FlowScripts.Renew.Command([Keys.Semaphore(g.Key)], [leaseMs, .. g.Select(h => (RedisArg)h.Key)])).ToArray();
                try
                {
                    await runtime.Redis.ExecuteBatchAsync(commands, stopping).ConfigureAwait(false);
                }
                catch (RedisException e)
                {
                    await onError(e).ConfigureAwait(false);   // the next tick tries again; a lease lost meanwhile lets one more handler start
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task<string?> AcquireAsync(string type, string leaseId, CancellationToken cancellationToken)
    {
        var turnstile = _turnstiles.GetOrAdd("c:" + type, _ => new SemaphoreSlim(1, 1));
        await turnstile.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var poll = PollMin; ; poll = TimeSpan.FromTicks(Math.Min(PollMax.Ticks, poll.Ticks * 2)))
            {
                var taken = await AcquireOnceAsync(type, leaseId, cancellationToken).ConfigureAwait(false);
                if (taken == 1)
                {
                    return leaseId;
                }

                if (taken == -1)
                {
                    return null;   // the limit was removed meanwhile
                }

                await Task.Delay(Jittered(poll), runtime.Time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            turnstile.Release();
        }
    }

    /// <summary>Runs the acquire script once: 1 taken, 0 all held, -1 no limit.</summary>
    private async Task<long> AcquireOnceAsync(string type, string leaseId, CancellationToken cancellationToken)
    {
        // Held before the script runs, so a renewal never misses a permit just taken.
        _held[leaseId] = type;
        var command = FlowScripts.Acquire.Command([Keys.Semaphore(type), Keys.Limits], [FlowKeys.ConcurrencyField(type), (long)Options.ConcurrencyLeaseTime.TotalMilliseconds, leaseId]);
        try
        {
            var taken = (await runtime.Redis.ExecuteAsync(command, cancellationToken).ConfigureAwait(false)).AsInt64();
            if (taken != 1)
            {
                _held.TryRemove(leaseId, out _);
            }

            return taken;
        }
        catch
        {
            _held.TryRemove(leaseId, out _);
            throw;
        }
    }

    /// <summary>Runs the token script once: 0 taken (or no bucket applies), else milliseconds until a token is due.</summary>
    private async Task<long> TakeTokenOnceAsync(string type, string? tenant, CancellationToken cancellationToken)
    {
        var command = FlowScripts.TakeToken.Command(
            [Keys.Limits, Keys.Bucket(RateLimitScope.Type, type), Keys.Bucket(RateLimitScope.Tenant, tenant ?? "")],
            [FlowKeys.RateField(RateLimitScope.Type, type), tenant is null ? "" : FlowKeys.RateField(RateLimitScope.Tenant, tenant)]);
        return (await runtime.Redis.ExecuteAsync(command, cancellationToken).ConfigureAwait(false)).AsInt64();
    }

    private async Task TakeTokenAsync(string type, string? tenant, CancellationToken cancellationToken)
    {
        var turnstile = _turnstiles.GetOrAdd($"r:{type}:{tenant}", _ => new SemaphoreSlim(1, 1));
        await turnstile.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                var waitMs = await TakeTokenOnceAsync(type, tenant, cancellationToken).ConfigureAwait(false);
                if (waitMs <= 0)
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(waitMs, 1000)), runtime.Time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            turnstile.Release();
        }
    }

    /// <summary>Which limits apply to a message of <paramref name="type"/> for <paramref name="tenant"/>.</summary>
    private async ValueTask<(bool Concurrency, bool TypeRate, bool TenantRate)> ApplyingAsync(string type, string? tenant, CancellationToken cancellationToken)
    {
        var limited = await LimitedAsync(cancellationToken).ConfigureAwait(false);
        if (limited.Count == 0)
        {
            return default;   // no limit anywhere in this namespace: the common case costs no allocation
        }

        return (
            limited.Contains(FlowKeys.ConcurrencyField(type)),
            limited.Contains(FlowKeys.RateField(RateLimitScope.Type, type)),
            tenant is not null && limited.Contains(FlowKeys.RateField(RateLimitScope.Tenant, tenant)));
    }

    /// <summary>The limit fields that exist now (reread at most every <see cref="FlowControlOptions.LimitsRefresh"/>).</summary>
    private async ValueTask<HashSet<string>> LimitedAsync(CancellationToken cancellationToken)
    {
        var now = runtime.Time.GetTimestamp();
        var refreshedAt = Interlocked.Read(ref _refreshedAt);
        var loaded = refreshedAt != long.MinValue;
        if (loaded && runtime.Time.GetElapsedTime(refreshedAt, now) < Options.LimitsRefresh)
        {
            return _limited;
        }

        if (loaded && !await _refreshing.WaitAsync(0, cancellationToken).ConfigureAwait(false))
        {
            return _limited;   // another handler is rereading them; use what we have
        }

        if (!loaded)
        {
            // Never read yet: everyone waits for the first read, so nothing starts unlimited at start-up.
            await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (Interlocked.Read(ref _refreshedAt) != long.MinValue)
            {
                _refreshing.Release();
                return _limited;
            }
        }

        try
        {
            var fields = await runtime.Redis.ExecuteAsync(new RedisCommand("HKEYS", [Keys.Limits], 0), cancellationToken).ConfigureAwait(false);
            _limited = [.. fields.Items.Select(f => f.AsString()!)];
            Interlocked.Exchange(ref _refreshedAt, now);
            return _limited;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private static TimeSpan Jittered(TimeSpan wait) => wait * (0.75 + (Random.Shared.NextDouble() * 0.5));
}
