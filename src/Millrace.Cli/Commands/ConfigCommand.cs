using System.Collections;
using System.CommandLine;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Millrace.Cli.Hosting;
using Millrace.Cli.Output;
using Millrace.Redis;

namespace Millrace.Cli.Commands;

/// <summary><c>millrace config check</c>: the effective settings (secrets masked), where they came from, and a connection test.</summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var config = new Command("config", "Configuration: see what is in effect.");
        var check = new Command("check", "Print the effective configuration (secrets masked) and test the Redis connection; exit 0 only when Redis answers.");
        check.SetRun(CheckAsync);
        config.Subcommands.Add(check);
        return config;
    }

    private static async Task<int> CheckAsync(ParseResult parse, CliHost host, CancellationToken ct)
    {
        var redis = host.Redis.Options;
        var source = RedisSource(parse, host);
        var settings = Describe(host.Options);
        settings["Redis"] = redis.ToString();
        settings.Remove("RedisOptions");
        var server = host.Configuration.GetSection("Millrace:Server");
        settings["Server"] = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["Urls"] = server["Urls"] ?? "http://127.0.0.1:8080 (default)",
            ["Auth:Keys"] = $"{server.GetSection("Auth:Keys").GetChildren().Count()} configured (keys not shown)",
            ["Auth:DisableAuthUnsafeForLocalDevelopment"] = server["Auth:DisableAuthUnsafeForLocalDevelopment"] ?? "false",
        };
        var files = CliSettings.Files(parse).Select(f => new { path = f.FullName, exists = f.Exists }).ToArray();

        // The connection test: a failure still prints the configuration first, then one line on stderr.
        Connection connection;
        Exception? failure = null;
        try
        {
            var rtt = await host.Redis.PingAsync(ct).ConfigureAwait(false);
            var info = (await host.Redis.ExecuteAsync(new RedisCommand("INFO", ["server"]), ct).ConfigureAwait(false)).AsString() ?? "";
            connection = new Connection(true, Math.Round(rtt.TotalMilliseconds, 2), InfoField(info, "redis_version"), InfoField(info, "redis_mode"), null);
        }
        catch (RedisException e)
        {
            failure = e;
            connection = new Connection(false, null, null, null, CliErrors.OneLine(e.Message));
        }

        if (parse.Json())
        {
            Out.Json(new { files, redisSource = source, millrace = settings, connection });
        }
        else
        {
            var table = Out.NewTable("setting", "value");
            foreach (var f in files)
            {
                table.Row("settings file", $"{f.path} ({(f.exists ? "read" : "not present")})");
            }

            table.Row("Redis comes from", source);
            foreach (var (name, value) in Flatten("Millrace", settings))
            {
                table.Row(name, value);
            }

            Out.Table(table);
            if (failure is null)
            {
                Out.Line($"connection ok: Redis {connection.Version} ({connection.Mode}) answered PING in {connection.PingMs} ms.");
            }
        }

        if (failure is not null)
        {
            throw failure;   // one line on stderr with the exit code of its kind (unreachable, auth failed)
        }

        return ExitCodes.Ok;
    }

    private sealed record Connection(bool Ok, double? PingMs, string? Version, string? Mode, string? Error);

    private static string RedisSource(ParseResult parse, CliHost host)
    {
        if (!string.IsNullOrWhiteSpace(parse.GetValue(GlobalOptions.Redis)))
        {
            return "the --redis flag";
        }

        if (!string.IsNullOrWhiteSpace(host.Configuration["REDIS_ADDRS"]))
        {
            return "the REDIS_ADDRS/REDIS_MODE/REDIS_MASTER_NAME/REDIS_PASSWORD variables";
        }

        return host.Configuration["Millrace:Redis"] is not null ? "Millrace:Redis (appsettings.json or MILLRACE__REDIS)" : "the default (127.0.0.1:6379)";
    }

    private static string? InfoField(string info, string name) =>
        info.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal))?[(name.Length + 1)..];

    /// <summary>The public settings of an options object as plain values, secrets masked, types skipped.</summary>
    internal static Dictionary<string, object?> Describe(object options, int depth = 0)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var value = property.GetValue(options);
            result[property.Name] = value is null ? null
                : IsSecret(property.Name) ? "*****"
                : property.Name.EndsWith("Url", StringComparison.Ordinal) ? MaskUrl(value.ToString()!)
                : Plain(value, depth);
        }

        return result;
    }

    private static object? Plain(object? value, int depth) => value switch
    {
        null => null,
        string or bool or Enum => value is Enum ? value.ToString() : value,
        TimeSpan span => span == Timeout.InfiniteTimeSpan ? "infinite" : span.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        _ when value.GetType().IsPrimitive || value is decimal => value,
        Type t => t.FullName,
        RedisOptions redis => redis.ToString(),
        IDictionary dictionary when depth < 3 => dictionary.Keys.Cast<object>().ToDictionary(k => k.ToString()!, k => Plain(dictionary[k], depth + 1), StringComparer.Ordinal),
        IEnumerable list when depth < 3 => list.Cast<object?>().Select(i => Plain(i, depth + 1)).ToArray(),
        _ when depth < 3 && value.GetType().IsClass => Describe(value, depth + 1),
        _ => value.ToString(),
    };

    // Webhook URLs often carry a token in their path or query: show where they go, not the token.
    private static string MaskUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/*****" : "*****";

    private static bool IsSecret(string name) =>
        name.Contains("Password", StringComparison.OrdinalIgnoreCase) || name.Contains("Secret", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith("ApiKey", StringComparison.OrdinalIgnoreCase) || name.EndsWith("AdminKey", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith("Token", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<(string Name, string Value)> Flatten(string prefix, object? value)
    {
        switch (value)
        {
            case Dictionary<string, object?> map when map.Count > 0:
                foreach (var (key, inner) in map)
                {
                    foreach (var row in Flatten($"{prefix}:{key}", inner))
                    {
                        yield return row;
                    }
                }

                break;
            case Dictionary<string, object?>:
                yield return (prefix, "(none)");
                break;
            case object?[] items:
                yield return (prefix, items.Length == 0 ? "(none)" : string.Join(", ", items.Select(i => i is Dictionary<string, object?> d ? "{" + string.Join(", ", d.Select(kv => $"{kv.Key}={kv.Value}")) + "}" : Out.Format(i))));
                break;
            default:
                yield return (prefix, Out.Format(value));
                break;
        }
    }
}
