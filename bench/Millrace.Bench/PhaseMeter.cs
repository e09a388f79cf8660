using System.Diagnostics;
using System.Globalization;

namespace Millrace.Bench;

/// <summary>
/// Where a phase's time went, for the progress lines: this process's CPU time, the Redis server's CPU
/// time (when it runs on this machine and /proc shows it), bytes allocated, GCs (and the time the
/// process was paused for them), thread-pool work items per operation, and methods the JIT compiled
/// meanwhile (tiering still at work means the phase measured partly unoptimised code). Diagnostics only; the JSON result does not depend on them.
/// </summary>
internal sealed class PhaseMeter
{
    private readonly int? _serverPid;
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly TimeSpan? _serverCpu;
    private readonly TimeSpan? _machineCpu = MachineBusyCpu();
    private readonly long _allocated = GC.GetTotalAllocatedBytes(precise: false);
    private readonly int _gen0 = GC.CollectionCount(0);
    private readonly int _gen1 = GC.CollectionCount(1);
    private readonly int _gen2 = GC.CollectionCount(2);
    private readonly long _workItems = ThreadPool.CompletedWorkItemCount;
    private readonly TimeSpan _gcPause = GC.GetTotalPauseDuration();
    private readonly long _jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount();
    private readonly TimeSpan _jitTime = System.Runtime.JitInfo.GetCompilationTime();

    public PhaseMeter(int? serverPid)
    {
        _serverPid = serverPid;
        _serverCpu = ProcessCpu(serverPid);
    }

    /// <summary>A one-line summary of the phase so far, per operation.</summary>
    public string Describe(long ops)
    {
        var wall = Stopwatch.GetElapsedTime(_start);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - _cpu;
        var serverCpu = ProcessCpu(_serverPid) - _serverCpu;
        var perOp = 1_000_000.0 / ops;   // seconds -> microseconds per op
        var text = string.Create(CultureInfo.InvariantCulture,
            $"this process {cpu.TotalSeconds * perOp:F2} us CPU/op ({cpu / wall:P0} of one core)");
        if (serverCpu is { } server)
        {
            text += string.Create(CultureInfo.InvariantCulture,
                $", redis-server {server.TotalSeconds * perOp:F2} us CPU/op ({server / wall:P0} of one core)");
        }

        // Everything else that ran meanwhile (redis-benchmark itself in its phase, or other work on the machine).
        if (MachineBusyCpu() - _machineCpu is { } machine)
        {
            var rest = machine - cpu - (serverCpu ?? TimeSpan.Zero);
            text += string.Create(CultureInfo.InvariantCulture, $", rest of machine {Math.Max(0, rest / wall):P0} of one core");
        }

        return text + string.Create(CultureInfo.InvariantCulture,
            $", {(double)(GC.GetTotalAllocatedBytes(precise: false) - _allocated) / ops:F0} B allocated/op, GCs {GC.CollectionCount(0) - _gen0}/{GC.CollectionCount(1) - _gen1}/{GC.CollectionCount(2) - _gen2} (paused {(GC.GetTotalPauseDuration() - _gcPause).TotalMilliseconds:F0} ms, {(GC.GetTotalPauseDuration() - _gcPause) / wall:P0} of the time), {(double)(ThreadPool.CompletedWorkItemCount - _workItems) / ops:F2} thread-pool items/op, JIT {System.Runtime.JitInfo.GetCompiledMethodCount() - _jitMethods} methods in {(System.Runtime.JitInfo.GetCompilationTime() - _jitTime).TotalMilliseconds:F0} ms");
    }

    /// <summary>
    /// CPU that neither this process nor the server used during the phase so far, in cores (0.5 = half of
    /// one core): other work on the machine, which makes the figures low and noisy. Null when /proc is unreadable.
    /// </summary>
    public double? RestOfMachine()
    {
        var wall = Stopwatch.GetElapsedTime(_start);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - _cpu;
        var serverCpu = ProcessCpu(_serverPid) - _serverCpu;
        return MachineBusyCpu() - _machineCpu is { } machine ? Math.Max(0, (machine - cpu - (serverCpu ?? TimeSpan.Zero)) / wall) : null;
    }

    /// <summary>How busy the whole machine is over <paramref name="window"/>, in cores (0.5 = half of one core), or null.</summary>
    public static async Task<double?> MachineBusyAsync(TimeSpan window, CancellationToken cancellationToken)
    {
        var before = MachineBusyCpu();
        await Task.Delay(window, cancellationToken);
        return MachineBusyCpu() - before is { } busy ? busy / window : null;
    }

    /// <summary>CPU time all cores spent busy (not idle or waiting for I/O) since boot, from /proc/stat, or null.</summary>
    public static TimeSpan? MachineBusyCpu()
    {
        try
        {
            using var reader = new StreamReader("/proc/stat");
            var fields = reader.ReadLine()?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields is null || fields.Length < 6 || fields[0] != "cpu")
            {
                return null;
            }

            long busy = 0;
            for (var i = 1; i < Math.Min(fields.Length, 9); i++)
            {
                if (i is not (4 or 5))   // idle, iowait
                {
                    busy += long.Parse(fields[i], CultureInfo.InvariantCulture);
                }
            }

            return TimeSpan.FromSeconds(busy / 100.0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>User + system CPU time of a local process from /proc/PID/stat, or null when it cannot be read.</summary>
    public static TimeSpan? ProcessCpu(int? pid)
    {
        if (pid is null)
        {
            return null;
        }

        try
        {
            // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);   // USER_HZ is 100 on Linux
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
