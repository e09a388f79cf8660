using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Millrace.Server;

/// <summary>
/// Ready when every consumer running in this process fetched within
/// <see cref="MillraceServerOptions.WorkerFetchStaleAfter"/> (a stuck fetch loop is the silent
/// failure other queues are known for). Healthy when this process runs no consumers.
/// </summary>
internal sealed class WorkersHealthCheck(MillraceWorkers workers, IOptions<MillraceServerOptions> options, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var consumers = workers.Consumers;
        if (consumers.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy("No consumers run in this process."));
        }

        var now = time.GetUtcNow();
        var limit = options.Value.WorkerFetchStaleAfter;
        var stale = consumers.Where(c => now - c.LastFetchAt > limit).ToArray();
        return Task.FromResult(stale.Length == 0
            ? HealthCheckResult.Healthy($"{consumers.Count} consumer(s) fetched within {limit.TotalSeconds:0.#} s.")
            : HealthCheckResult.Unhealthy($"{stale.Length} of {consumers.Count} consumer(s) have not fetched for more than {limit.TotalSeconds:0.#} s: " +
                string.Join(", ", stale.Select(c => $"{c.Name} (queue {c.Options.Queue}, last fetch {(now - c.LastFetchAt).TotalSeconds:0} s ago)"))));
    }
}
