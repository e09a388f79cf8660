namespace Millrace.Server;

/// <summary>One tick of the dashboard's live feed. Rates are per second across every process (from the shared per-minute statistics); latencies are this process's handlers (ms, null when none ran).</summary>
internal sealed record LiveSample(
    DateTimeOffset At, double Published, double Processed, double Failed, double Retried, double DeadLettered,
    double? HandlerP50Ms, double? HandlerP95Ms, double? LatencyP50Ms, double? LatencyP95Ms,
    long Length, long Pending, long Delayed, long DeadLetters, int Workers, bool RedisUp);
