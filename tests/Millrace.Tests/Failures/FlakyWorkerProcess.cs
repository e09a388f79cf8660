using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;

namespace Millrace.Tests.Failures;

/// <summary>Starts the test worker with failure injection: its handlings fail by a reproducible dice roll (see <see cref="FailureDiceCopy"/>).</summary>
internal static class FlakyWorkerProcess
{
    public static Task<WorkerProcess> StartAsync(string label, WorkerSettings settings, FailureInjection injection) =>
        WorkerProcess.StartAsync(label, settings,
        [
            ("fail-rate", injection.FailRate.ToString(CultureInfo.InvariantCulture)),
            ("max-attempts", injection.MaxAttempts.ToString(CultureInfo.InvariantCulture)),
            ("retry-delay-ms", ((long)injection.RetryDelay.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)),
            ("breaker-threshold", injection.BreakerThreshold.ToString(CultureInfo.InvariantCulture)),
        ]);
}

internal sealed record FailureInjection(double FailRate, int MaxAttempts, TimeSpan RetryDelay, int BreakerThreshold = 0);

/// <summary>
/// The same function as FailureDice in tests/Millrace.TestWorker/Program.cs (the test project cannot
/// reference the worker): whether the worker's handler fails (message id, attempt) at a given rate.
/// </summary>
internal static class FailureDiceCopy
{
    public static bool Fails(string messageId, int attempt, double rate)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes($"{messageId}:{attempt.ToString(CultureInfo.InvariantCulture)}"))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        // FNV alone keeps "id:1", "id:2", "id:3" correlated (they differ in the last byte only): mix the bits (MurmurHash3's finaliser).
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        return hash % 1_000_000UL < (ulong)(rate * 1_000_000);
    }
}
