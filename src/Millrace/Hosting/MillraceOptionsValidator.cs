using Microsoft.Extensions.Options;
using Millrace.Redis;

namespace Millrace;

/// <summary>Checks the settings at start; each failure names the setting and what is allowed.</summary>
internal sealed class MillraceOptionsValidator : IValidateOptions<MillraceOptions>
{
    public ValidateOptionsResult Validate(string? name, MillraceOptions options)
    {
        var failures = new List<string>();
        try
        {
            options.ResolveRedis().Validate();
        }
        catch (RedisConfigurationException e)
        {
            failures.Add($"Millrace:Redis: {e.Message}");
        }

        if (string.IsNullOrWhiteSpace(options.KeyPrefix) || options.KeyPrefix.IndexOfAny(['{', '}', ' ']) >= 0)
        {
            failures.Add($"Millrace:KeyPrefix is '{options.KeyPrefix}'; it must be non-empty, without spaces or braces.");
        }

        if (options.Namespace is not null)
        {
            Check(() => QueueName.Validate(options.Namespace, "namespace"));
        }

        if (options.DefaultDedupTtl <= TimeSpan.Zero)
        {
            failures.Add($"Millrace:DefaultDedupTtl is {options.DefaultDedupTtl}; it must be positive.");
        }

        if (options.Flow.ConcurrencyLeaseTime < TimeSpan.FromSeconds(1))
        {
            failures.Add($"Millrace:Flow:ConcurrencyLeaseTime is {options.Flow.ConcurrencyLeaseTime}; it must be at least 1 s (permits are renewed every third of it).");
        }

        if (options.Flow.LimitsRefresh <= TimeSpan.Zero || options.Flow.LimitsRefresh > TimeSpan.FromMinutes(1))
        {
            failures.Add($"Millrace:Flow:LimitsRefresh is {options.Flow.LimitsRefresh}; allowed above 0 and up to 1 minute.");
        }

        if (options.Alerts.WebhookUrl is { } webhook && (!webhook.IsAbsoluteUri || (webhook.Scheme != Uri.UriSchemeHttp && webhook.Scheme != Uri.UriSchemeHttps)))
        {
            failures.Add($"Millrace:Alerts:WebhookUrl is '{webhook}'; it must be an absolute http or https URL.");
        }

        if (options.Alerts.Interval < TimeSpan.FromMilliseconds(100) || options.Alerts.Window < TimeSpan.FromMinutes(1) || options.Alerts.Window > TimeSpan.FromHours(2))
        {
            failures.Add($"Millrace:Alerts: Interval ({options.Alerts.Interval}) must be at least 100 ms and Window ({options.Alerts.Window}) between 1 minute and 2 hours.");
        }

        foreach (var rule in options.Alerts.Rules)
        {
            if (rule.Queue is not null)
            {
                Check(() => QueueName.Validate(rule.Queue));
            }

            if (rule.Threshold < 0 || double.IsNaN(rule.Threshold) || (rule.Metric == AlertMetric.FailureRate && rule.Threshold > 1))
            {
                failures.Add($"Millrace:Alerts: the {rule.Metric} rule has threshold {rule.Threshold}; it must be 0 or more (a failure rate at most 1).");
            }
        }

        if (options.TaskState.Ttl < TimeSpan.FromSeconds(1))
        {
            failures.Add($"Millrace:TaskState:Ttl is {options.TaskState.Ttl}; it must be at least 1 s.");
        }

        if (options.TaskState.MaxPayloadBytes < 0 || options.TaskState.MaxErrors < 1 || options.TaskState.EventsMaxLength < 0)
        {
            failures.Add($"Millrace:TaskState: MaxPayloadBytes ({options.TaskState.MaxPayloadBytes}) and EventsMaxLength ({options.TaskState.EventsMaxLength}) must be 0 or more, MaxErrors ({options.TaskState.MaxErrors}) at least 1.");
        }

        failures.AddRange(options.Retry.Problems("Millrace:Retry"));
        foreach (var (type, policy) in options.RetryByType)
        {
            failures.AddRange(policy.Problems($"Retry policy of '{type}'"));
        }

        if (options.MaxPayloadBytes is < 1 or > 512 * 1024 * 1024)
        {
            failures.Add($"Millrace:MaxPayloadBytes is {options.MaxPayloadBytes}; allowed 1 to 536870912 (Redis's own limit).");
        }

        foreach (var (queue, q) in options.Queues)
        {
            Check(() => QueueName.Validate(queue));
            if (q.Partitions is < 1 or > 1024)
            {
                failures.Add($"Queue '{queue}': Partitions is {q.Partitions}; allowed 1 to 1024.");
            }

            if (q.PriorityLevels is < 1 or > QueueKeys.PriorityLevelsMax)
            {
                failures.Add($"Queue '{queue}': PriorityLevels is {q.PriorityLevels}; allowed 1 to {QueueKeys.PriorityLevelsMax}.");
            }

            if (q.PriorityWeights.Count > 0 && (q.PriorityWeights.Count != q.PriorityLevels || q.PriorityWeights.Any(w => w < 1)))
            {
                failures.Add($"Queue '{queue}': PriorityWeights has {q.PriorityWeights.Count} entries ({string.Join(", ", q.PriorityWeights)}); give one positive weight per level ({q.PriorityLevels}), lowest level first.");
            }

            if (q.StarvationGuard < 0)
            {
                failures.Add($"Queue '{queue}': StarvationGuard is {q.StarvationGuard}; it must be 0 (off) or more.");
            }

            failures.AddRange(q.Retention?.Problems($"Millrace:Queues:{queue}:Retention") ?? []);
            if (q.MaxLength is < 1)
            {
                failures.Add($"Queue '{queue}': MaxLength is {q.MaxLength}; it must be at least 1 (or unset for no cap).");
            }
        }

        failures.AddRange(options.Retention.Problems());
        failures.AddRange(BackupJournalOptionsProblems.Of(options));

        foreach (var job in options.CronJobs)
        {
            var who = $"Cron job '{job.Name}'";
            Check(() => QueueName.Validate(job.Name, "cron job"));
            Check(() => QueueName.Validate(job.Queue));
            if (string.IsNullOrWhiteSpace(job.Type))
            {
                failures.Add($"{who}: Type is empty; give the message type its ticks are published as.");
            }

            try
            {
                CronExpression.Parse(job.Schedule);
            }
            catch (CronParseException e)
            {
                failures.Add($"{who}: {e.Message}");
            }

            if (job.MisfireWindow <= TimeSpan.Zero)
            {
                failures.Add($"{who}: MisfireWindow is {job.MisfireWindow}; it must be positive.");
            }
        }

        if (options.CronJobs.GroupBy(j => (j.Queue, j.Name)).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            failures.Add($"Cron job '{twice.Key.Name}' on queue '{twice.Key.Queue}' is registered twice; job names must be unique per queue.");
        }

        foreach (var c in options.Consumers)
        {
            var who = $"Consumer of '{c.Queue}' (group '{c.Group}')";
            Check(() => QueueName.Validate(c.Queue));
            Check(() => QueueName.Validate(c.Group, "group"));
            if (c.ConsumerName is not null)
            {
                Check(() => QueueName.Validate(c.ConsumerName, "consumer"));
            }

            if (c.Concurrency is < 1 or > 10_000)
            {
                failures.Add($"{who}: Concurrency is {c.Concurrency}; allowed 1 to 10000.");
            }

            if (c.VisibilityTimeout < TimeSpan.FromMilliseconds(300))
            {
                failures.Add($"{who}: VisibilityTimeout is {c.VisibilityTimeout}; it must be at least 300 ms (leases are renewed every third of it).");
            }

            if (c.FetchCount < 1)
            {
                failures.Add($"{who}: FetchCount is {c.FetchCount}; it must be at least 1.");
            }

            if (c.BlockFor <= TimeSpan.Zero || c.BlockFor > TimeSpan.FromSeconds(30))
            {
                failures.Add($"{who}: BlockFor is {c.BlockFor}; allowed above 0 and up to 30 s.");
            }

            if (c.StartPosition == StartPosition.Id && string.IsNullOrWhiteSpace(c.StartId))
            {
                failures.Add($"{who}: StartPosition is Id but StartId is empty; give an entry id such as 1700000000000-0.");
            }

            if (c.ShutdownTimeout < TimeSpan.Zero)
            {
                failures.Add($"{who}: ShutdownTimeout is negative.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(Action validate)
        {
            try
            {
                validate();
            }
            catch (ArgumentException e)
            {
                failures.Add(e.Message);
            }
        }
    }
}
