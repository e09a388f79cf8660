namespace Millrace;

/// <summary>What a rate limit applies to.</summary>
public enum RateLimitScope
{
    /// <summary>All messages of one type, over every worker.</summary>
    Type,

    /// <summary>All messages of one tenant (<see cref="OutgoingMessage.Tenant"/>), over every worker.</summary>
    Tenant,
}

/// <summary>
/// A distributed token bucket: handlers of the scope start at most <paramref name="PerSecond"/> times a
/// second on average, with bursts of at most <paramref name="Burst"/>.
/// </summary>
/// <param name="Scope">A type or a tenant.</param>
/// <param name="Key">The type name or the tenant.</param>
/// <param name="PerSecond">Average starts per second; above 0.</param>
/// <param name="Burst">Starts allowed at once after a quiet spell; at least 1. Small bursts keep short windows close to the rate.</param>
public sealed record RateLimit(RateLimitScope Scope, string Key, double PerSecond, int Burst)
{
    /// <summary>The default burst for a rate: a tenth of a second's worth, at least 1, so a limit holds over short windows too.</summary>
    public static int DefaultBurst(double perSecond) => Math.Max(1, (int)Math.Ceiling(perSecond / 10));

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong with the limit.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Key))
        {
            throw new ArgumentException($"A {Scope.ToString().ToLowerInvariant()} rate limit needs the {Scope.ToString().ToLowerInvariant()} it applies to.");
        }

        if (!(PerSecond > 0) || double.IsInfinity(PerSecond) || PerSecond > 1_000_000)
        {
            throw new ArgumentException($"The rate limit of {Scope.ToString().ToLowerInvariant()} '{Key}' is {PerSecond} per second; allowed above 0 and up to 1000000.");
        }

        if (Burst is < 1 or > 1_000_000)
        {
            throw new ArgumentException($"The burst of the rate limit of {Scope.ToString().ToLowerInvariant()} '{Key}' is {Burst}; allowed 1 to 1000000.");
        }
    }
}
