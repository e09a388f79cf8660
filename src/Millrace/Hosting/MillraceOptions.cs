using Millrace.Redis;

namespace Millrace;

/// <summary>Millrace's settings: where Redis is, the key namespace, queues and consumers.</summary>
public sealed class MillraceOptions
{
    /// <summary>Redis connection string (see <see cref="RedisOptions.Parse"/>); ignored when <see cref="RedisOptions"/> is set.</summary>
    public string Redis { get; set; } = "127.0.0.1:6379";

    /// <summary>Redis settings in code; overrides <see cref="Redis"/>.</summary>
    public RedisOptions? RedisOptions { get; set; }

    /// <summary>The key prefix: a namespace. Queues under different prefixes never see each other.</summary>
    public string KeyPrefix { get; set; } = "millrace";

    /// <summary>
    /// The tenant namespace this process works in, or null for none. A namespace isolates a tenant:
    /// its queues, limits, task state, statistics and events live under <c>{KeyPrefix}:ns:{Namespace}</c>
    /// and are invisible from any other namespace.
    /// </summary>
    public string? Namespace { get; set; }

    /// <summary>The prefix of every key this process reads and writes: the key prefix, then the namespace.</summary>
    internal string Prefix => string.IsNullOrEmpty(Namespace) ? KeyPrefix : $"{KeyPrefix}:ns:{Namespace}";

    /// <summary>
    /// The backup producer: when set, publishes that cannot reach Redis go to this durable local
    /// journal and are replayed in order when Redis is back (docs/backup-producer.md). Null: off.
    /// </summary>
    public BackupJournalOptions? BackupJournal { get; set; }

    /// <summary>How long a dedup key is remembered when a message does not say.</summary>
    public TimeSpan DefaultDedupTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The retry policy of message types that have none of their own.</summary>
    public RetryPolicy Retry { get; set; } = RetryPolicy.Default;

    /// <summary>Retry policies by message type.</summary>
    public IDictionary<string, RetryPolicy> RetryByType { get; } = new Dictionary<string, RetryPolicy>(StringComparer.Ordinal);

    /// <summary>The circuit breaker of message types that have none of their own.</summary>
    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();

    /// <summary>Threshold alerts sent to a webhook; off until <see cref="AlertOptions.WebhookUrl"/> is set.</summary>
    public AlertOptions Alerts { get; set; } = new();

    /// <summary>Task records (state by message id, listable by state and type) and lifecycle events; off by default.</summary>
    public TaskStateOptions TaskState { get; set; } = new();

    /// <summary>How concurrency and rate limits are enforced (the limits are set at runtime with <see cref="MillraceAdmin"/>).</summary>
    public FlowControlOptions Flow { get; set; } = new();

    /// <summary>Circuit breakers by message type.</summary>
    public IDictionary<string, CircuitBreakerOptions> CircuitBreakerByType { get; } = new Dictionary<string, CircuitBreakerOptions>(StringComparer.Ordinal);

    /// <summary>
    /// The largest payload accepted: publishing a bigger one fails with a clear error, and a bigger
    /// entry found in a stream (written by another client) goes to the dead-letter queue as oversized.
    /// </summary>
    public int MaxPayloadBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The retry policy of <paramref name="type"/>.</summary>
    public RetryPolicy RetryFor(string type) => RetryByType.TryGetValue(type, out var policy) ? policy : Retry;

    /// <summary>The circuit breaker settings of <paramref name="type"/>.</summary>
    public CircuitBreakerOptions CircuitBreakerFor(string type) => CircuitBreakerByType.TryGetValue(type, out var options) ? options : CircuitBreaker;

    /// <summary>Per-queue settings by queue name; a queue not listed has the defaults.</summary>
    public IDictionary<string, QueueOptions> Queues { get; } = new Dictionary<string, QueueOptions>(StringComparer.Ordinal);

    /// <summary>How the retention sweep runs (interval, batch size, inactive groups); see <see cref="QueueOptions.Retention"/>.</summary>
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>The consumers this process runs.</summary>
    public IList<ConsumerOptions> Consumers { get; } = new List<ConsumerOptions>();

    /// <summary>The cron jobs this process takes part in (run them on several instances: each tick is published once).</summary>
    public IList<CronJobOptions> CronJobs { get; } = new List<CronJobOptions>();

    /// <summary>The settings of <paramref name="queue"/> (defaults when it is not listed).</summary>
    public QueueOptions Queue(string queue) => Queues.TryGetValue(queue, out var options) ? options : QueueOptions.Default;

    internal RedisOptions ResolveRedis() => RedisOptions ?? Millrace.Redis.RedisOptions.Parse(Redis);
}
