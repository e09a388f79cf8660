using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Millrace.Redis.Tests.Support;

namespace Millrace.Tests.Support;

/// <summary>What one worker process runs (the flags of tests/Millrace.TestWorker).</summary>
public sealed record WorkerSettings
{
    public required string Prefix { get; init; }
    public required string Queue { get; init; }
    public required string Record { get; init; }
    public string Redis { get; init; } = RedisTopology.Standalone.ToString();
    public string Group { get; init; } = "workers";
    public string? Name { get; init; }
    public int Consumers { get; init; } = 1;
    public int Concurrency { get; init; } = 16;
    public int Partitions { get; init; } = 1;
    public TimeSpan Visibility { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan Shutdown { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan HandlerDelay { get; init; } = TimeSpan.Zero;
}

/// <summary>
/// A real worker process (tests/Millrace.TestWorker, run with <c>dotnet</c>): a separate OS process
/// that can be SIGKILLed or SIGTERMed. Its stdout and stderr are kept for failure messages. Its stdin
/// stays open while this object lives, so a worker whose test process died stops by itself.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(30);
    private static readonly SemaphoreSlim BuildGate = new(1, 1);
    private static string? _builtPath;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WorkerProcess(Process process, string label)
    {
        _process = process;
        Label = label;
    }

    /// <summary>A name for messages ("worker A").</summary>
    public string Label { get; }

    public int Id => _process.Id;

    /// <summary>The consumer names the worker printed on READY.</summary>
    public IReadOnlyList<string> ConsumerNames { get; private set; } = [];

    /// <summary>The reason printed on STOPPED, once printed.</summary>
    public Task<string> Stopped => _stopped.Task;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the worker wrote so far (stdout and stderr, interleaved), for failure messages.</summary>
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

    /// <summary>Starts a worker and waits until it prints READY (its consumer groups exist and its consumers run).</summary>
    public static async Task<WorkerProcess> StartAsync(string label, WorkerSettings settings, IReadOnlyList<(string Flag, string Value)>? extraFlags = null)
    {
        var dll = await WorkerDllAsync();
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        void Flag(string flag, string value)
        {
            start.ArgumentList.Add($"--{flag}");
            start.ArgumentList.Add(value);
        }

        string Ms(TimeSpan t) => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        string Int(int n) => n.ToString(CultureInfo.InvariantCulture);
        Flag("redis", settings.Redis);
        Flag("prefix", settings.Prefix);
        Flag("queue", settings.Queue);
        Flag("record", settings.Record);
        Flag("group", settings.Group);
        Flag("consumers", Int(settings.Consumers));
        Flag("concurrency", Int(settings.Concurrency));
        Flag("partitions", Int(settings.Partitions));
        Flag("visibility-ms", Ms(settings.Visibility));
        Flag("shutdown-ms", Ms(settings.Shutdown));
        Flag("handler-delay-ms", Ms(settings.HandlerDelay));
        foreach (var (flag, value) in extraFlags ?? [])
        {
            Flag(flag, value);
        }

        if (settings.Name is not null)
        {
            Flag("name", settings.Name);
        }

        start.ArgumentList.Add("--watch-stdin");

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process, label);
        process.OutputDataReceived += (_, e) => worker.OnLine(e.Data, "out");
        process.ErrorDataReceived += (_, e) => worker.OnLine(e.Data, "err");
        if (!process.Start())
        {
            throw new InvalidOperationException($"{label}: could not start {start.FileName} {dll}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await worker.WaitForReadyAsync();
        }
        catch
        {
            await worker.DisposeAsync();
            throw;
        }

        return worker;
    }

    /// <summary>SIGKILL: the process vanishes at once, as in a crash (no graceful stop, no acks sent).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);   // SIGKILL on Unix
        }
    }

    /// <summary>SIGTERM: asks for a graceful stop, as an orchestrator does.</summary>
    public void Terminate()
    {
        if (!_process.HasExited && kill(_process.Id, SIGTERM) != 0)
        {
            throw new InvalidOperationException($"{Label}: kill -TERM {_process.Id} failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>Waits for the process to exit, failing with its output if it does not within <paramref name="within"/>.</summary>
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
                _stopped.TrySetException(new InvalidOperationException("its stdout closed before STOPPED"));
            }

            return;
        }

        lock (_output)
        {
            _output.Append(stream).Append(": ").AppendLine(line);
        }

        if (stream != "out")
        {
            return;
        }

        if (line.StartsWith("READY", StringComparison.Ordinal))
        {
            ConsumerNames = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
            _ready.TrySetResult(line);
        }
        else if (line.StartsWith("STOPPED ", StringComparison.Ordinal))
        {
            _stopped.TrySetResult(line["STOPPED ".Length..]);
        }
    }

    private async Task WaitForReadyAsync()
    {
        var ready = _ready.Task;
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(ready, exited, Task.Delay(ReadyWithin));
        if (first == ready && ready.IsCompletedSuccessfully)
        {
            return;
        }

        var why = first == exited || _process.HasExited ? $"it exited with code {_process.ExitCode}" : $"no READY within {ReadyWithin.TotalSeconds:0} s";
        if (first == exited)
        {
            await Task.WhenAny(ready, Task.Delay(TimeSpan.FromSeconds(1)));   // let the last lines arrive
        }

        throw new InvalidOperationException($"Expected {Label} (pid {Id}) to print READY, but {why}. Its output:\n{Output}");
    }

    /// <summary>The dotnet host that runs this test (the CLI sets DOTNET_HOST_PATH), else "dotnet" from PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";

    /// <summary>
    /// tests/Millrace.TestWorker/bin/&lt;configuration of this test assembly&gt;/net10.0/Millrace.TestWorker.dll.
    /// The test project cannot reference the worker project, so ./test.sh builds the whole solution first;
    /// when the dll is missing (only this project was built) it is built here, once per test run.
    /// </summary>
    private static async Task<string> WorkerDllAsync()
    {
        await BuildGate.WaitAsync();
        try
        {
            if (_builtPath is not null)
            {
                return _builtPath;
            }

            var configuration = typeof(WorkerProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } c ? c : "Debug";
            var project = Path.Combine(RedisTopology.RepositoryRoot, "tests", "Millrace.TestWorker");
            var dll = Path.Combine(project, "bin", configuration, "net10.0", "Millrace.TestWorker.dll");
            if (!File.Exists(dll))
            {
                await BuildAsync(project, configuration);
                if (!File.Exists(dll))
                {
                    throw new InvalidOperationException($"The test worker is missing: {dll} (built 'dotnet build {project} -c {configuration}', which did not produce it).");
                }
            }

            return _builtPath = dll;
        }
        finally
        {
            BuildGate.Release();
        }
    }

    private static async Task BuildAsync(string project, string configuration)
    {
        var start = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "build", project, "-c", configuration, "-nologo", "-v", "quiet" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"The test worker is missing and 'dotnet build {project} -c {configuration}' failed ({process.ExitCode}):\n{await stdout}{await stderr}");
        }
    }

    private const int SIGTERM = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
