using Microsoft.Extensions.Diagnostics.HealthChecks;
using Millrace.Redis;

namespace Millrace.Server;

/// <summary>Ready when Redis answers PING.</summary>
internal sealed class RedisHealthCheck(IRedisClient redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var rtt = await redis.PingAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"Redis answered PING in {rtt.TotalMilliseconds:0.#} ms.");
        }
        catch (RedisException e)
        {
            return HealthCheckResult.Unhealthy($"Redis did not answer PING: {e.Message}", e);
        }
    }
}
