using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Evaluates the alert rules every <see cref="AlertOptions.Interval"/> and POSTs a JSON body to the
/// webhook when a rule starts firing or resolves. The state of each rule and queue is kept in Redis
/// (<c>{prefix}:alerts</c>) and changes only once the webhook answered 2xx, so a failed delivery is
/// tried again at the next tick. Only the process holding the lease <c>{prefix}:alerts:lease</c> evaluates.
/// </summary>
internal sealed partial class AlertMonitor(MillraceRuntime runtime, MillraceAdmin admin, ILogger<AlertMonitor> logger) : BackgroundService
{
    private readonly string _self = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    private AlertOptions Options => runtime.Options.Alerts;

    private string StateKey => $"{runtime.Prefix}:alerts";

    private string LeaseKey => $"{runtime.Prefix}:alerts:lease";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Options.WebhookUrl is null || Options.Rules.Count == 0)
        {
            return;
        }

        using var http = new HttpClient { Timeout = Options.WebhookTimeout };
        using var timer = new PeriodicTimer(Options.Interval, runtime.Time);
        try
        {
            do
            {
                try
                {
                    if (await HoldLeaseAsync(stoppingToken).ConfigureAwait(false))
                    {
                        await EvaluateAsync(http, stoppingToken).ConfigureAwait(false);
                    }
                }
                catch (RedisException e)
                {
                    EvaluationFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task<bool> HoldLeaseAsync(CancellationToken cancellationToken)
    {
        var leaseMs = (long)(Options.Interval.TotalMilliseconds * 3);
        var taken = await runtime.Redis.ExecuteAsync(new RedisCommand("SET", [LeaseKey, _self, "NX", "PX", leaseMs], 0), cancellationToken).ConfigureAwait(false);
        if (!taken.IsNull)
        {
            return true;
        }

        var holder = await runtime.Redis.ExecuteAsync(new RedisCommand("GET", [LeaseKey], 0), cancellationToken).ConfigureAwait(false);
        if (holder.AsString() != _self)
        {
            return false;
        }

        await runtime.Redis.ExecuteAsync(new RedisCommand("PEXPIRE", [LeaseKey, leaseMs], 0), cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task EvaluateAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var queues = await admin.QueueNamesAsync(cancellationToken).ConfigureAwait(false);
        var states = (await runtime.Redis.ExecuteAsync(new RedisCommand("HGETALL", [StateKey], 0), cancellationToken).ConfigureAwait(false))
            .AsPairs().ToDictionary(p => p.Key, p => p.Value.AsString(), StringComparer.Ordinal);
        var infos = new Dictionary<string, QueueInfo?>(StringComparer.Ordinal);
        var windowMinutes = Math.Max(1, (int)Math.Ceiling(Options.Window.TotalMinutes));
        foreach (var rule in Options.Rules)
        {
            foreach (var queue in rule.Queue is null ? queues : queues.Where(q => q == rule.Queue))
            {
                var value = await MeasureAsync(rule.Metric, queue, infos, windowMinutes, cancellationToken).ConfigureAwait(false);
                if (value is null)
                {
                    continue;
                }

                var field = $"{rule.Metric}:{rule.Threshold.ToString(CultureInfo.InvariantCulture)}:{queue}";
                var firing = value > rule.Threshold;
                var wasFiring = states.TryGetValue(field, out var state) && state == "firing";
                if (firing == wasFiring)
                {
                    continue;
                }

                if (await SendAsync(http, rule, queue, value.Value, firing, cancellationToken).ConfigureAwait(false))
                {
                    await runtime.Redis.ExecuteAsync(new RedisCommand("HSET", [StateKey, field, firing ? "firing" : "resolved"], 0), cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task<double?> MeasureAsync(AlertMetric metric, string queue, Dictionary<string, QueueInfo?> infos, int windowMinutes, CancellationToken cancellationToken)
    {
        switch (metric)
        {
            case AlertMetric.Backlog or AlertMetric.OldestPendingAge:
                if (!infos.TryGetValue(queue, out var info))
                {
                    info = infos[queue] = await admin.QueueInfoAsync(queue, cancellationToken).ConfigureAwait(false);
                }

                if (info is null)
                {
                    return null;
                }

                return metric == AlertMetric.Backlog
                    ? info.Groups.Count == 0 ? info.Length : info.Groups.Max(g => (g.Lag ?? info.Length) + g.Pending)
                    : info.OldestPendingAge?.TotalSeconds ?? 0;
            case AlertMetric.FailureRate:
            {
                var buckets = await admin.StatsAsync(queue, windowMinutes, cancellationToken).ConfigureAwait(false);
                var failed = buckets.Sum(b => b.Failed);
                var runs = failed + buckets.Sum(b => b.Processed);
                return runs < Options.MinimumRuns ? 0 : (double)failed / runs;
            }

            default:
            {
                var buckets = await admin.StatsAsync(queue, windowMinutes, cancellationToken).ConfigureAwait(false);
                return buckets.Sum(b => b.DeadLettered);
            }
        }
    }

    private async Task<bool> SendAsync(HttpClient http, AlertRule rule, string queue, double value, bool firing, CancellationToken cancellationToken)
    {
        var body = new AlertBody(
            Alert: Name(rule.Metric),
            State: firing ? "firing" : "resolved",
            Queue: queue,
            Namespace: runtime.Options.Namespace,
            Value: value,
            Threshold: rule.Threshold,
            At: runtime.Time.GetUtcNow(),
            Message: string.Create(CultureInfo.InvariantCulture, $"{Name(rule.Metric)} of queue '{queue}' is {value:0.###} ({(firing ? "above" : "back at or below")} the threshold {rule.Threshold:0.###})"));
        try
        {
            using var response = await http.PostAsJsonAsync(Options.WebhookUrl, body, AlertJson.Default.AlertBody, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                AlertSent(logger, body.Alert, queue, body.State, value);
                return true;
            }

            WebhookRefused(logger, Options.WebhookUrl!, (int)response.StatusCode, body.Alert, queue);
            return false;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            WebhookFailed(logger, e, Options.WebhookUrl!, body.Alert, queue);
            return false;
        }
    }

    private static string Name(AlertMetric metric) => metric switch
    {
        AlertMetric.Backlog => "backlog",
        AlertMetric.OldestPendingAge => "oldest_pending_age",
        AlertMetric.FailureRate => "failure_rate",
        _ => "dead_letter_growth",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Alert} on {Queue} is {State} (value {Value})")]
    private static partial void AlertSent(ILogger logger, string alert, string queue, string state, double value);

    [LoggerMessage(Level = LogLevel.Error, Message = "The alert webhook {Url} answered {Status} for {Alert} on {Queue}; it is sent again at the next evaluation")]
    private static partial void WebhookRefused(ILogger logger, Uri url, int status, string alert, string queue);

    [LoggerMessage(Level = LogLevel.Error, Message = "The alert webhook {Url} could not be reached for {Alert} on {Queue}; it is sent again at the next evaluation")]
    private static partial void WebhookFailed(ILogger logger, Exception error, Uri url, string alert, string queue);

    [LoggerMessage(Level = LogLevel.Error, Message = "Alerts could not be evaluated (Redis unreachable); trying again at the next interval")]
    private static partial void EvaluationFailed(ILogger logger, Exception error);
}

/// <summary>The webhook's JSON body.</summary>
internal sealed record AlertBody(
    [property: JsonPropertyName("alert")] string Alert,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("queue")] string Queue,
    [property: JsonPropertyName("namespace")] string? Namespace,
    [property: JsonPropertyName("value")] double Value,
    [property: JsonPropertyName("threshold")] double Threshold,
    [property: JsonPropertyName("at")] DateTimeOffset At,
    [property: JsonPropertyName("message")] string Message);

[JsonSerializable(typeof(AlertBody))]
internal sealed partial class AlertJson : JsonSerializerContext;
