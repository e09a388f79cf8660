namespace Millrace;

/// <summary>
/// How a message type is retried: up to <see cref="MaxAttempts"/> attempts in all, waiting
/// <see cref="InitialDelay"/> × <see cref="Multiplier"/>^(n-1) (capped at <see cref="MaxDelay"/>, ±<see cref="Jitter"/>)
/// before attempt n+1. Exceptions listed in <see cref="NonRetriable"/> (and <see cref="NonRetriableException"/>)
/// go to the dead-letter queue at once.
/// </summary>
public sealed class RetryPolicy
{
    /// <summary>5 attempts, 1 s doubling to at most 5 min, ±20% jitter.</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>One attempt: a failure goes straight to the dead-letter queue.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts in all, the first included.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The wait before the second attempt.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between attempts.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How much each wait grows.</summary>
    public double Multiplier { get; init; } = 2;

    /// <summary>Random spread of each wait, as a fraction (0.2 = ±20%), so failures in a burst do not retry in a burst.</summary>
    public double Jitter { get; init; } = 0.2;

    /// <summary>Exception types (and their subclasses) that are never retried.</summary>
    public IReadOnlyList<Type> NonRetriable { get; init; } = [];

    internal static RetryPolicy Copy(RetryPolicy policy) => new()
    {
        MaxAttempts = policy.MaxAttempts,
        InitialDelay = policy.InitialDelay,
        MaxDelay = policy.MaxDelay,
        Multiplier = policy.Multiplier,
        Jitter = policy.Jitter,
        NonRetriable = policy.NonRetriable,
    };

    /// <summary>Whether <paramref name="error"/> may be retried under this policy.</summary>
    public bool IsRetriable(Exception error) =>
        error is not NonRetriableException && !NonRetriable.Any(t => t.IsInstanceOfType(error));

    /// <summary>The wait before attempt <paramref name="nextAttempt"/> (2 or more).</summary>
    public TimeSpan DelayBefore(int nextAttempt, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var exponent = Math.Max(0, nextAttempt - 2);
        var ms = Math.Min(MaxDelay.TotalMilliseconds, InitialDelay.TotalMilliseconds * Math.Pow(Multiplier, exponent));
        var spread = 1 + (Jitter * ((random.NextDouble() * 2) - 1));
        return TimeSpan.FromMilliseconds(Math.Max(0, ms * spread));
    }

    internal IEnumerable<string> Problems(string who)
    {
        if (MaxAttempts < 1)
        {
            yield return $"{who}: MaxAttempts is {MaxAttempts}; it must be at least 1.";
        }

        if (InitialDelay < TimeSpan.Zero || MaxDelay < InitialDelay)
        {
            yield return $"{who}: delays must satisfy 0 <= InitialDelay ({InitialDelay}) <= MaxDelay ({MaxDelay}).";
        }

        if (Multiplier < 1 || Jitter is < 0 or > 1)
        {
            yield return $"{who}: Multiplier ({Multiplier}) must be at least 1 and Jitter ({Jitter}) between 0 and 1.";
        }
    }
}

/// <summary>Throw this from a handler to send the message to the dead-letter queue without retrying.</summary>
public class NonRetriableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NonRetriableException(string message, Exception? inner = null) : base(message, inner)
    {
    }

    /// <summary>Creates the exception.</summary>
    public NonRetriableException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public NonRetriableException(string message) : base(message)
    {
    }
}
