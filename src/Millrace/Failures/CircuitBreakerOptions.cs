namespace Millrace;

/// <summary>
/// A circuit breaker per message type and consumer: after <see cref="FailureThreshold"/> failures in a
/// row the type is paused for <see cref="CoolDown"/> (its messages wait, no attempt is counted), then
/// one message is tried (half-open): success closes the circuit, failure opens it again.
/// </summary>
public sealed class CircuitBreakerOptions
{
    /// <summary>Off: failures only follow the retry policy.</summary>
    public static CircuitBreakerOptions Disabled { get; } = new() { FailureThreshold = 0 };

    /// <summary>Consecutive failures that open the circuit (0 turns the breaker off).</summary>
    public int FailureThreshold { get; init; } = 10;

    /// <summary>How long an open circuit keeps the type paused.</summary>
    public TimeSpan CoolDown { get; init; } = TimeSpan.FromSeconds(30);
}
