using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Millrace.Redis;

namespace Millrace.Bench;

/// <summary>One result row of <c>redis-benchmark --csv</c>.</summary>
/// <param name="Test">The test name (for a custom command: the command line, as redis-benchmark prints it).</param>
/// <param name="RequestsPerSecond">Requests (commands) per second.</param>
/// <param name="Columns">Every column of the row by header name (rps, avg_latency_ms, p50_latency_ms, ...).</param>
internal sealed record RedisBenchmarkResult(string Test, double RequestsPerSecond, IReadOnlyDictionary<string, string> Columns)
{
    /// <summary>A latency column (e.g. <c>p50_latency_ms</c>) as a number, or null when absent.</summary>
    public double? Milliseconds(string column) =>
        Columns.TryGetValue(column, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
}

/// <summary>
/// What the benchmarks share: the repository root, the bench Redis (started with the project's own
/// <c>deploy/redis/topology.sh start bench</c>, never by other means) and running
/// <c>redis-benchmark</c> and reading its CSV output.
/// </summary>
internal static class BenchRedis
{
    /// <summary>Where <c>topology.sh start bench</c> puts the plain, persistence-free bench Redis.</summary>
    /// <summary>The Redis given by --address, or the bench Redis started through the project's script when none is given.</summary>
    public static async Task<RedisEndpoint> ResolveAsync(string? address, CancellationToken cancellationToken)
    {
        try
        {
            return address is null ? await StartBenchServerAsync(cancellationToken) : RedisEndpoint.Parse(address);
        }
        catch (RedisConfigurationException e)
        {
            throw new BenchUsageException($"--address: {e.Message}");
        }
    }

    public static readonly RedisEndpoint BenchEndpoint = new("127.0.0.1", 6395);

    /// <summary>
    /// The directory holding Millrace.slnx, found by walking up from the working directory and then
    /// from the executable's directory.
    /// </summary>
    public static string FindRepoRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Millrace.slnx")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new BenchException(
            $"could not find the repository root (a directory with Millrace.slnx) above {Environment.CurrentDirectory} or {AppContext.BaseDirectory}; run from inside the repository or pass --address.");
    }

    /// <summary>Runs <c>deploy/redis/topology.sh start bench</c> (idempotent) and returns 127.0.0.1:6395.</summary>
    public static async Task<RedisEndpoint> StartBenchServerAsync(CancellationToken cancellationToken)
    {
        var script = Path.Combine(FindRepoRoot(), "deploy", "redis", "topology.sh");
        if (!File.Exists(script))
        {
            throw new BenchException($"{script} is missing; it starts the bench Redis.");
        }

        Progress("bench", $"starting the bench Redis: {script} start bench");
        var run = await RunProcessAsync("bash", [script, "start", "bench"], cancellationToken);
        foreach (var line in (run.StandardError + run.StandardOutput).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Console.Error.WriteLine($"  {line}");
        }

        if (run.ExitCode != 0)
        {
            throw new BenchException($"topology.sh start bench failed with exit code {run.ExitCode} (its output is above).");
        }

        return BenchEndpoint;
    }

    /// <summary>
    /// Runs <c>redis-benchmark -h H -p P [options] --csv [command...]</c> and returns its result rows.
    /// A custom command is given as the arguments after the options (no shell is involved, so
    /// <c>*</c> and binary-ish values pass through unchanged).
    /// </summary>
    public static async Task<IReadOnlyList<RedisBenchmarkResult>> RunRedisBenchmarkAsync(
        RedisEndpoint endpoint, IReadOnlyList<string> options, IReadOnlyList<string> command, CancellationToken cancellationToken)
    {
        RequireRedisBenchmark();
        string[] args = ["-h", endpoint.Host, "-p", endpoint.Port.ToString(CultureInfo.InvariantCulture), .. options, "--csv", .. command];
        var run = await RunProcessAsync("redis-benchmark", args, cancellationToken);
        if (run.ExitCode != 0)
        {
            throw new BenchException($"redis-benchmark exited with code {run.ExitCode}: {FirstLines(run.StandardError + run.StandardOutput)}");
        }

        var results = ParseCsv(run.StandardOutput);
        if (results.Count == 0)
        {
            throw new BenchException($"redis-benchmark printed no result rows: {FirstLines(run.StandardError + run.StandardOutput)}");
        }

        return results;
    }

    /// <summary>redis-benchmark's pipeline depth for the XADD reference (<c>-P 16</c>).</summary>
    public const int ReferencePipeline = 16;

    /// <summary>redis-benchmark's connections for the XADD reference (<c>-c 50</c>).</summary>
    public const int ReferenceClients = 50;

    /// <summary>
    /// The reference every throughput benchmark compares with: <c>redis-benchmark -P 16 -c 50 -n COUNT
    /// XADD key * field value ...</c> on <paramref name="endpoint"/>; returns its result row. The caller
    /// deletes <paramref name="key"/> before and after.
    /// </summary>
    public static async Task<RedisBenchmarkResult> RunXaddReferenceAsync(
        RedisEndpoint endpoint, string key, IReadOnlyList<string> fieldsAndValues, long count, CancellationToken cancellationToken) =>
        (await RunRedisBenchmarkAsync(
            endpoint,
            ["-P", $"{ReferencePipeline}", "-c", $"{ReferenceClients}", "-n", count.ToString(CultureInfo.InvariantCulture)],
            ["XADD", key, "*", .. fieldsAndValues],
            cancellationToken))[^1];

    /// <summary>Fails early, with what to install, when redis-benchmark is not on PATH.</summary>
    public static void RequireRedisBenchmark()
    {
        if (FindOnPath("redis-benchmark") is null)
        {
            throw new BenchException("redis-benchmark is not installed (not found on PATH); on Debian: apt-get install redis-tools.");
        }
    }

    /// <summary>
    /// Reads redis-benchmark's CSV: a header row (<c>"test","rps","avg_latency_ms",...</c>) then one row per
    /// test, every field double-quoted. Lines that are not CSV rows (e.g. warnings) are skipped.
    /// </summary>
    public static IReadOnlyList<RedisBenchmarkResult> ParseCsv(string csv)
    {
        string[]? header = null;
        var results = new List<RedisBenchmarkResult>();
        foreach (var rawLine in csv.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (!line.StartsWith('"'))
            {
                continue;
            }

            var fields = SplitCsvLine(line);
            if (header is null)
            {
                if (fields.Length < 2 || fields[0] != "test" || fields[1] != "rps")
                {
                    throw new BenchException($"redis-benchmark CSV header is not \"test\",\"rps\",...: {line}");
                }

                header = fields;
                continue;
            }

            if (fields.Length != header.Length)
            {
                throw new BenchException($"redis-benchmark CSV row has {fields.Length} fields, the header {header.Length}: {line}");
            }

            var columns = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < header.Length; i++)
            {
                columns[header[i]] = fields[i];
            }

            if (!double.TryParse(columns["rps"], NumberStyles.Float, CultureInfo.InvariantCulture, out var rps))
            {
                throw new BenchException($"redis-benchmark CSV rps '{columns["rps"]}' is not a number: {line}");
            }

            results.Add(new RedisBenchmarkResult(columns["test"], rps, columns));
        }

        return results;
    }

    /// <summary>Writes a progress line to stderr: <c>bench NAME: message</c>.</summary>
    public static void Progress(string benchmark, string message) => Console.Error.WriteLine($"bench {benchmark}: {message}");

    private static string[] SplitCsvLine(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return [.. fields];
    }

    private static string? FindOnPath(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string FirstLines(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(5);
        var joined = string.Join(" | ", lines);
        return joined.Length == 0 ? "(no output)" : joined;
    }

    private sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError);

    private static async Task<ProcessResult> RunProcessAsync(string fileName, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new BenchException($"could not run {fileName}: {e.Message}", e);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }
}
