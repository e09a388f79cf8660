using System.Globalization;

namespace Millrace.Bench;

/// <summary>A benchmark failed (server missing, tool missing, wrong result): the message says why.</summary>
internal class BenchException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The command line was wrong.</summary>
internal sealed class BenchUsageException(string message) : BenchException(message);

/// <summary>
/// Options after the benchmark name: <c>--name value</c> pairs. Each benchmark reads the ones it
/// knows and then calls <see cref="EnsureAllUsed"/> so a misspelt option is an error, not ignored.
/// </summary>
internal sealed class BenchArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public BenchArgs(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || name.Length == 2)
            {
                throw new BenchUsageException($"unexpected argument '{name}'; options are --name value.");
            }

            var equals = name.IndexOf('=', StringComparison.Ordinal);
            string value;
            if (equals > 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }
            else if (i + 1 < args.Length)
            {
                value = args[++i];
            }
            else
            {
                throw new BenchUsageException($"option {name} needs a value.");
            }

            if (!_values.TryAdd(name, value))
            {
                throw new BenchUsageException($"option {name} is given twice.");
            }
        }
    }

    public string? GetString(string name)
    {
        _used.Add(name);
        return _values.GetValueOrDefault(name);
    }

    public long GetInt64(string name, long defaultValue, long min = 1, long max = long.MaxValue)
    {
        var text = GetString(name);
        if (text is null)
        {
            return defaultValue;
        }

        // Accept 1000000, 1_000_000 and 1e6.
        var clean = text.Replace("_", "", StringComparison.Ordinal);
        if (!long.TryParse(clean, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            if (!double.TryParse(clean, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || d != Math.Floor(d) || d > long.MaxValue)
            {
                throw new BenchUsageException($"option {name} must be a whole number, not '{text}'.");
            }

            value = (long)d;
        }

        if (value < min || value > max)
        {
            throw new BenchUsageException($"option {name} must be between {min} and {max}, not {value}.");
        }

        return value;
    }

    public void EnsureAllUsed()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToArray();
        if (unknown.Length > 0)
        {
            throw new BenchUsageException($"unknown option{(unknown.Length > 1 ? "s" : "")}: {string.Join(", ", unknown)}.");
        }
    }
}
