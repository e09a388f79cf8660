namespace Millrace;

/// <summary>
/// Where flow control lives: every key shares the hash tag <c>{prefix:flow}</c>, so the scripts that
/// check a concurrency limit and two token buckets at once stay in one Cluster slot. Limits are per
/// namespace (prefix) and apply to a type on every queue.
/// </summary>
internal sealed class FlowKeys(string prefix)
{
    private readonly string _tag = $"{{{prefix}:flow}}";

    /// <summary>The limits: a hash with <c>concurrency:{type}</c> = n and <c>rate:{scope}:{key}</c> = "perSecond:burst".</summary>
    public string Limits => $"{_tag}:limits";

    /// <summary>The permits held for a type: a sorted set of lease ids scored by their expiry (server time, ms).</summary>
    public string Semaphore(string type) => $"{_tag}:sem:{type}";

    /// <summary>A token bucket's state: a hash of tokens and the time they were counted.</summary>
    public string Bucket(RateLimitScope scope, string key) => $"{_tag}:bucket:{Scope(scope)}:{key}";

    public static string ConcurrencyField(string type) => $"concurrency:{type}";

    public static string RateField(RateLimitScope scope, string key) => $"rate:{Scope(scope)}:{key}";

    public static string Scope(RateLimitScope scope) => scope == RateLimitScope.Type ? "type" : "tenant";
}
