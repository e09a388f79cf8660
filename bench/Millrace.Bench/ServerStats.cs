using System.Globalization;
using Millrace.Redis;

namespace Millrace.Bench;

/// <summary>
/// The server's own counters: commands processed and socket reads and writes. Commands per read
/// is the pipeline depth the server actually saw (redis-benchmark -P 16 gives about 16).
/// </summary>
internal sealed record ServerIo(long Commands, long Reads, long Writes)
{
    public static async Task<ServerIo> ReadAsync(IRedisClient redis, CancellationToken cancellationToken)
    {
        var info = (await redis.ExecuteAsync(new RedisCommand("INFO", ["stats"]), cancellationToken)).AsString() ?? "";
        long Field(string name)
        {
            var line = info.Split('\n').FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal));
            return line is not null && long.TryParse(line.AsSpan(name.Length + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1;
        }

        return new ServerIo(Field("total_commands_processed"), Field("total_reads_processed"), Field("total_writes_processed"));
    }

    public async Task<string> DescribeSinceAsync(IRedisClient redis, CancellationToken cancellationToken)
    {
        var now = await ReadAsync(redis, cancellationToken);
        if (Commands < 0 || Reads < 0 || Writes < 0 || now.Reads <= Reads || now.Writes <= Writes)
        {
            return "";
        }

        var commands = now.Commands - Commands;
        return string.Create(CultureInfo.InvariantCulture,
            $"; server saw {(double)commands / (now.Reads - Reads):F1} commands per socket read, {(double)commands / (now.Writes - Writes):F1} per write");
    }

    /// <summary>The server's pid when it runs on this machine (its INFO process_id is a redis process here), else null.</summary>
    public static async Task<int?> LocalServerPidAsync(IRedisClient redis, RedisEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (endpoint.Host is not ("127.0.0.1" or "localhost" or "::1"))
        {
            return null;
        }

        var info = (await redis.ExecuteAsync(new RedisCommand("INFO", ["server"]), cancellationToken)).AsString() ?? "";
        foreach (var line in info.Split('\n'))
        {
            if (line.StartsWith("process_id:", StringComparison.Ordinal)
                && int.TryParse(line.AsSpan("process_id:".Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && File.Exists($"/proc/{pid}/comm")
                && File.ReadAllText($"/proc/{pid}/comm").Contains("redis", StringComparison.Ordinal))
            {
                return pid;
            }
        }

        return null;
    }
}

/// <summary>
/// The server's per-command counters (<c>INFO commandstats</c>: calls and microseconds spent), so a
/// phase can say which commands it sent, how many, and what each cost the server.
/// </summary>
internal sealed class CommandStats
{
    private readonly Dictionary<string, (long Calls, long Usec)> _commands;

    private CommandStats(Dictionary<string, (long Calls, long Usec)> commands) => _commands = commands;

    public static async Task<CommandStats> ReadAsync(IRedisClient redis, CancellationToken cancellationToken)
    {
        var info = (await redis.ExecuteAsync(new RedisCommand("INFO", ["commandstats"]), cancellationToken)).AsString() ?? "";
        var commands = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        foreach (var raw in info.Split('\n'))
        {
            // cmdstat_xadd:calls=123,usec=456,usec_per_call=3.71,rejected_calls=0,failed_calls=0
            var line = raw.Trim();
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal) || colon < 0)
            {
                continue;
            }

            long calls = 0, usec = 0;
            foreach (var pair in line[(colon + 1)..].Split(','))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq < 0)
                {
                    continue;
                }

                var name = pair[..eq];
                if (name == "calls")
                {
                    long.TryParse(pair.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out calls);
                }
                else if (name == "usec")
                {
                    long.TryParse(pair.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out usec);
                }
            }

            commands[line["cmdstat_".Length..colon]] = (calls, usec);
        }

        return new CommandStats(commands);
    }

    /// <summary>Calls of <paramref name="command"/> (lowercase) since <paramref name="before"/>.</summary>
    public long CallsSince(CommandStats before, string command) =>
        _commands.GetValueOrDefault(command).Calls - before._commands.GetValueOrDefault(command).Calls;

    /// <summary>
    /// Commands outside <paramref name="expected"/> that the server ran more than a background trickle of
    /// (over 1 % of <paramref name="ops"/>, at least 100) since <paramref name="before"/>: another client
    /// using the same server meanwhile. The counters are server-wide. Null when there are none.
    /// </summary>
    public string? DescribeForeignSince(CommandStats before, long ops, IReadOnlySet<string> expected)
    {
        var foreign = _commands
            .Select(c => (Name: c.Key, Calls: c.Value.Calls - before._commands.GetValueOrDefault(c.Key).Calls))
            .Where(c => !expected.Contains(c.Name) && c.Calls > Math.Max(100, ops / 100))
            .OrderByDescending(c => c.Calls)
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Name} {c.Calls:N0}"))
            .ToArray();
        return foreign.Length == 0 ? null : string.Join(", ", foreign);
    }

    /// <summary>
    /// The commands called since <paramref name="before"/>, busiest first: <c>xadd 200000 calls (3.1 us each)</c>;
    /// the server's own time per call, without I/O.
    /// </summary>
    public string DescribeSince(CommandStats before)
    {
        var rows = new List<(string Name, long Calls, long Usec)>();
        foreach (var (name, (calls, usec)) in _commands)
        {
            var old = before._commands.GetValueOrDefault(name);
            if (calls - old.Calls > 0 && name is not ("info" or "ping"))
            {
                rows.Add((name, calls - old.Calls, usec - old.Usec));
            }
        }

        return rows.Count == 0
            ? "no commands"
            : string.Join(", ", rows.OrderByDescending(r => r.Usec).Select(r =>
                string.Create(CultureInfo.InvariantCulture, $"{r.Name} {r.Calls:N0} calls ({(double)r.Usec / r.Calls:F2} us each, {r.Usec / 1000.0:F0} ms)")));
    }
}
