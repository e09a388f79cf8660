using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;

namespace Millrace.Tests.Failures;

/// <summary>
/// A tests/Millrace.TestWorker process started with its failure-injection flags (--fail-rate,
/// --max-attempts, --retry-delay-ms, --breaker-threshold), which <see cref="WorkerProcess"/> does not
/// pass. Same protocol: READY on stdout once running; SIGKILL with <see cref="Kill"/>; stdin held open
/// so an orphaned worker stops by itself.
/// </summary>
internal sealed class FlakyWorkerProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(30);
    private static readonly SemaphoreSlim BuildGate = new(1, 1);
    private static string? _dll;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FlakyWorkerProcess(Process process, string label)
    {
        _process = process;
        Label = label;
    }

    public string Label { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<FlakyWorkerProcess> StartAsync(string label, WorkerSettings settings, FailureInjection injection)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(await WorkerDllAsync());
        void Flag(string flag, string value)
        {
            start.ArgumentList.Add($"--{flag}");
            start.ArgumentList.Add(value);
        }

        static string Int(long n) => n.ToString(CultureInfo.InvariantCulture);
        Flag("redis", settings.Redis);
        Flag("prefix", settings.Prefix);
        Flag("queue", settings.Queue);
        Flag("record", settings.Record);
        Flag("group", settings.Group);
        Flag("consumers", Int(settings.Consumers));
        Flag("concurrency", Int(settings.Concurrency));
        Flag("partitions", Int(settings.Partitions));
        Flag("visibility-ms", Int((long)settings.Visibility.TotalMilliseconds));
        Flag("shutdown-ms", Int((long)settings.Shutdown.TotalMilliseconds));
        Flag("handler-delay-ms", Int((long)settings.HandlerDelay.TotalMilliseconds));
        Flag("fail-rate", injection.FailRate.ToString(CultureInfo.InvariantCulture));
        Flag("max-attempts", Int(injection.MaxAttempts));
        Flag("retry-delay-ms", Int((long)injection.RetryDelay.TotalMilliseconds));
        Flag("breaker-threshold", Int(injection.BreakerThreshold));
        if (settings.Name is not null)
        {
            Flag("name", settings.Name);
        }

        start.ArgumentList.Add("--watch-stdin");

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new FlakyWorkerProcess(process, label);
        process.OutputDataReceived += (_, e) => worker.OnLine(e.Data, "out");
        process.ErrorDataReceived += (_, e) => worker.OnLine(e.Data, "err");
        if (!process.Start())
        {
            throw new InvalidOperationException($"{label}: could not start {start.FileName}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var first = await Task.WhenAny(worker._ready.Task, process.WaitForExitAsync(), Task.Delay(ReadyWithin));
        if (first != worker._ready.Task || !worker._ready.Task.IsCompletedSuccessfully)
        {
            var why = process.HasExited ? $"it exited with code {process.ExitCode}" : $"no READY within {ReadyWithin.TotalSeconds:0} s";
            await worker.DisposeAsync();
            throw new InvalidOperationException($"Expected {label} to print READY, but {why}. Its output:\n{worker.Output}");
        }

        return worker;
    }

    /// <summary>SIGKILL: the process vanishes at once (no graceful stop, no acks sent).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }
    }

    public async Task WaitForExitAsync(TimeSpan within)
    {
        using var deadline = new CancellationTokenSource(within);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Expected {Label} (pid {Id}) to exit within {within.TotalSeconds:0.#} s. Its output:\n{Output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            Kill();
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnLine(string? line, string stream)
    {
        if (line is null)
        {
            if (stream == "out")
            {
                _ready.TrySetException(new InvalidOperationException("its stdout closed before READY"));
            }

            return;
        }

        lock (_output)
        {
            _output.Append(stream).Append(": ").AppendLine(line);
        }

        if (stream == "out" && line.StartsWith("READY", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";

    /// <summary>The worker dll next to this test assembly's configuration; built once when missing.</summary>
    private static async Task<string> WorkerDllAsync()
    {
        await BuildGate.WaitAsync();
        try
        {
            if (_dll is not null)
            {
                return _dll;
            }

            var configuration = typeof(FlakyWorkerProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } c ? c : "Debug";
            var project = Path.Combine(RedisTopology.RepositoryRoot, "tests", "Millrace.TestWorker");
            var dll = Path.Combine(project, "bin", configuration, "net10.0", "Millrace.TestWorker.dll");
            if (!File.Exists(dll))
            {
                var build = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var arg in new[] { "build", project, "-c", configuration, "-nologo", "-v", "quiet" })
                {
                    build.ArgumentList.Add(arg);
                }

                using var process = Process.Start(build)!;
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                if (process.ExitCode != 0 || !File.Exists(dll))
                {
                    throw new InvalidOperationException($"The test worker is missing: {dll}; 'dotnet build {project} -c {configuration}' gave {process.ExitCode}:\n{await stdout}{await stderr}");
                }
            }

            return _dll = dll;
        }
        finally
        {
            BuildGate.Release();
        }
    }
}

/// <summary>The TestWorker's failure-injection flags.</summary>
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
