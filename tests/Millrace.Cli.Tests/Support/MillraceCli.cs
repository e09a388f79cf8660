using System.Diagnostics;
using System.Text;

namespace Millrace.Cli.Tests.Support;

/// <summary>What one run of the millrace program did.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr, string[] Args)
{
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"millrace {string.Join(' ', Args)} -> exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the real built <c>millrace</c> program as a child process, in its own working directory, with a
/// unique key prefix and the test Redis, and with the ambient REDIS_* and MILLRACE__* variables removed
/// (so a developer's shell cannot change what a test sees).
/// </summary>
public sealed class MillraceCli : IDisposable
{
    public static string Redis { get; } = System.Environment.GetEnvironmentVariable("MILLRACE_TEST_STANDALONE") ?? "127.0.0.1:6390";

    public static string AclRedis { get; } = System.Environment.GetEnvironmentVariable("MILLRACE_TEST_ACL") ?? "127.0.0.1:6391";

    public MillraceCli()
    {
        Prefix = $"cli{Guid.NewGuid():N}"[..19];
        WorkingDirectory = Directory.CreateTempSubdirectory("millrace-cli-").FullName;
        Environment["MILLRACE__REDIS"] = Redis;
        Environment["MILLRACE__KEYPREFIX"] = Prefix;
    }

    /// <summary>This test's key prefix (passed as MILLRACE__KEYPREFIX).</summary>
    public string Prefix { get; }

    /// <summary>The child's working directory (appsettings.json here is read).</summary>
    public string WorkingDirectory { get; }

    /// <summary>Variables set for the child; null removes one.</summary>
    public Dictionary<string, string?> Environment { get; } = new(StringComparer.Ordinal);

    /// <summary>The built program: Millrace.Cli.dll (installed as a tool, the command is millrace) under src/Millrace.Cli/bin/&lt;configuration&gt;/net10.0.</summary>
    public static string Program { get; } = FindProgram();

    public async Task<CliResult> RunAsync(params string[] args) => await RunAsync(TimeSpan.FromMinutes(3), args);

    public async Task<CliResult> RunAsync(TimeSpan timeout, params string[] args)
    {
        using var process = Start(args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"millrace {string.Join(' ', args)} did not finish within {timeout}; stdout so far: {await stdout}; stderr: {await stderr}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr, args);
    }

    /// <summary>Starts a long-running command (worker, server); read its output and stop it with <see cref="RunningCli.InterruptAsync"/>.</summary>
    public RunningCli StartLongRunning(params string[] args) => new(Start(args), args);

    public Process Start(string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Program);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys.ToArray())
        {
            if (name.StartsWith("REDIS_", StringComparison.Ordinal) || name.StartsWith("MILLRACE__", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(name);
            }
        }

        foreach (var (name, value) in Environment)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(WorkingDirectory, recursive: true);
        }
        catch (IOException)
        {
            // a temp folder left behind is harmless
        }
    }

    /// <summary>The repository root (holds Millrace.slnx).</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Millrace.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException($"no Millrace.slnx above {AppContext.BaseDirectory}");
    }

    private static string FindProgram()
    {
        if (System.Environment.GetEnvironmentVariable("MILLRACE_CLI_PROGRAM") is { Length: > 0 } given)
        {
            return given;   // e.g. a build elsewhere
        }

        // The test's own configuration first (Debug under test.sh), then the other one.
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        foreach (var c in new[] { configuration, configuration == "Debug" ? "Release" : "Debug" })
        {
            var path = Path.Combine(RepositoryRoot(), "src", "Millrace.Cli", "bin", c, "net10.0", "Millrace.Cli.dll");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException("the millrace program is not built: run 'dotnet build src/Millrace.Cli' (test.sh builds the solution first).");
    }
}

/// <summary>A millrace process that runs until told to stop, with its output collected line by line.</summary>
public sealed class RunningCli : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Task _reading;

    public RunningCli(Process process, string[] args)
    {
        _process = process;
        Args = args;
        _reading = Task.WhenAll(Pump(process.StandardOutput, _stdout), Pump(process.StandardError, _stderr));
    }

    public string[] Args { get; }

    public int ProcessId => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits until the output holds <paramref name="text"/> (polling, with a deadline).</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (Stdout.Contains(text, StringComparison.Ordinal) || Stderr.Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            if (_process.HasExited)
            {
                await _reading;
                break;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"expected '{text}' in the output of millrace {string.Join(' ', Args)} within {within}; exited: {_process.HasExited}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}");
    }

    /// <summary>Sends SIGINT (Ctrl-C) and waits for the exit code.</summary>
    public async Task<int> InterruptAsync(TimeSpan within)
    {
        if (!_process.HasExited)
        {
            using var kill = System.Diagnostics.Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill!.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(cts.Token);
        await _reading;
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static async Task Pump(StreamReader reader, StringBuilder into)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (into)
            {
                into.AppendLine(line);
            }
        }
    }
}
