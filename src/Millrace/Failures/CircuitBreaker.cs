namespace Millrace;

/// <summary>The state of a circuit breaker.</summary>
public enum CircuitState
{
    /// <summary>Messages run normally.</summary>
    Closed,
    /// <summary>Too many failures: messages of the type wait until the cool-down ends.</summary>
    Open,
    /// <summary>The cool-down ended: one message is tried; its outcome closes or reopens the circuit.</summary>
    HalfOpen,
}

/// <summary>One type's circuit in one consumer (see <see cref="CircuitBreakerOptions"/>).</summary>
internal sealed class CircuitBreaker(string type, CircuitBreakerOptions options)
{
    private readonly Lock _gate = new();
    private int _failures;
    private bool _trialRunning;

    public string Type { get; } = type;

    public CircuitState State { get; private set; } = CircuitState.Closed;

    public DateTimeOffset OpenUntil { get; private set; }

    /// <summary>Whether a message may run now; if not, how long it should wait.</summary>
    public bool AllowsRun(DateTimeOffset now, out TimeSpan wait, out bool changed)
    {
        wait = TimeSpan.Zero;
        changed = false;
        if (options.FailureThreshold <= 0)
        {
            return true;
        }

        lock (_gate)
        {
            if (State == CircuitState.Open && now >= OpenUntil)
            {
                State = CircuitState.HalfOpen;
                _trialRunning = false;
                changed = true;
            }

            switch (State)
            {
                case CircuitState.Closed:
                    return true;
                case CircuitState.HalfOpen when !_trialRunning:
                    _trialRunning = true;   // exactly one trial at a time
                    return true;
                case CircuitState.HalfOpen:
                    wait = TimeSpan.FromMilliseconds(Math.Max(100, options.CoolDown.TotalMilliseconds / 10));
                    return false;
                default:
                    wait = OpenUntil - now;
                    return false;
            }
        }
    }

    /// <summary>Records a success; true when the state changed.</summary>
    public bool RecordSuccess()
    {
        lock (_gate)
        {
            _failures = 0;
            _trialRunning = false;
            var changed = State != CircuitState.Closed;
            State = CircuitState.Closed;
            return changed;
        }
    }

    /// <summary>Records a failure; true when the state changed (the circuit opened).</summary>
    public bool RecordFailure(DateTimeOffset now)
    {
        if (options.FailureThreshold <= 0)
        {
            return false;
        }

        lock (_gate)
        {
            _failures++;
            _trialRunning = false;
            if (State == CircuitState.HalfOpen || (State == CircuitState.Closed && _failures >= options.FailureThreshold))
            {
                State = CircuitState.Open;
                OpenUntil = now + options.CoolDown;
                return true;
            }

            return false;
        }
    }
}
