using System.Globalization;
using System.Text;

namespace Millrace.Redis;

public sealed partial class RedisOptions
{
    private static readonly string[] Keys =
    [
        "mode", "user", "password", "sentinelPassword", "serviceName", "masterName", "database", "defaultDatabase",
        "tls", "ssl", "tlsCaFile", "sslCaFile", "tlsHost", "sslHost", "name", "clientName", "protocol",
        "connectTimeout", "commandTimeout", "syncTimeout", "blockingConnections",
    ];

    /// <summary>
    /// Parses a connection string: addresses and <c>key=value</c> settings separated by commas, e.g.
    /// <c>127.0.0.1:6379,password=secret</c>, or a <c>redis://user:password@host:port/db</c>
    /// (<c>rediss://</c> for TLS) URI. Keys: mode (standalone|sentinel|cluster), user, password,
    /// sentinelPassword, serviceName (or masterName), database, tls, tlsCaFile, tlsHost, name, protocol
    /// (resp2|resp3), connectTimeout, commandTimeout (milliseconds, or with a unit: 500ms, 5s),
    /// blockingConnections.
    /// </summary>
    public static RedisOptions Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var text = connectionString.Trim();
        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            return ParseUri(text);
        }

        var options = new RedisOptions();
        var modeSet = false;
        foreach (var rawPart in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = rawPart.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                options.Endpoints.Add(RedisEndpoint.Parse(rawPart));
                continue;
            }

            var key = rawPart[..equals].Trim();
            var value = rawPart[(equals + 1)..].Trim();
            modeSet |= key.Equals("mode", StringComparison.OrdinalIgnoreCase);
            options.Set(key, value);
        }

        // A service name alone means Sentinel, as in StackExchange.Redis.
        if (!modeSet && options.MasterName is not null)
        {
            options.Mode = RedisMode.Sentinel;
        }

        return options;
    }

    /// <summary>
    /// Reads the seeds' variables: <c>REDIS_MODE</c> (standalone|sentinel|cluster), <c>REDIS_ADDRS</c>
    /// (comma-separated host:port), <c>REDIS_MASTER_NAME</c>, <c>REDIS_PASSWORD</c>, plus
    /// <c>REDIS_USERNAME</c>, <c>REDIS_TLS</c>, <c>REDIS_TLS_CA_FILE</c> and <c>REDIS_DB</c>.
    /// Returns null when <c>REDIS_ADDRS</c> is not set.
    /// </summary>
    /// <param name="variables">Where to read variables from; the process environment when null.</param>
    public static RedisOptions? FromEnvironment(Func<string, string?>? variables = null)
    {
        variables ??= Environment.GetEnvironmentVariable;
        var addresses = variables("REDIS_ADDRS");
        if (string.IsNullOrWhiteSpace(addresses))
        {
            return null;
        }

        var options = new RedisOptions();
        foreach (var address in addresses.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            options.Endpoints.Add(RedisEndpoint.Parse(address));
        }

        SetIfPresent(options, variables, "REDIS_MODE", "mode");
        SetIfPresent(options, variables, "REDIS_MASTER_NAME", "masterName");
        SetIfPresent(options, variables, "REDIS_USERNAME", "user");
        SetIfPresent(options, variables, "REDIS_PASSWORD", "password");
        SetIfPresent(options, variables, "REDIS_TLS", "tls");
        SetIfPresent(options, variables, "REDIS_TLS_CA_FILE", "tlsCaFile");
        SetIfPresent(options, variables, "REDIS_DB", "database");
        return options;
    }

    /// <summary>Sets one setting by its connection-string key; throws naming the key and what is allowed.</summary>
    public void Set(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        switch (key.ToUpperInvariant())
        {
            case "MODE":
                Mode = value.ToUpperInvariant() switch
                {
                    "STANDALONE" or "SINGLE" => RedisMode.Standalone,
                    "SENTINEL" => RedisMode.Sentinel,
                    "CLUSTER" => RedisMode.Cluster,
                    _ => throw Invalid(key, value, "standalone, sentinel or cluster"),
                };
                break;
            case "USER":
                User = NullIfEmpty(value);
                break;
            case "PASSWORD":
                Password = NullIfEmpty(value);
                break;
            case "SENTINELPASSWORD":
                SentinelPassword = NullIfEmpty(value);
                break;
            case "SERVICENAME" or "MASTERNAME":
                MasterName = NullIfEmpty(value);
                break;
            case "DATABASE" or "DEFAULTDATABASE":
                Database = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var db) ? db : throw Invalid(key, value, "a database number (0, 1, ...)");
                break;
            case "TLS" or "SSL":
                Tls = ParseBool(key, value);
                break;
            case "TLSCAFILE" or "SSLCAFILE":
                TlsCaFile = NullIfEmpty(value);
                break;
            case "TLSHOST" or "SSLHOST":
                TlsHost = NullIfEmpty(value);
                break;
            case "NAME" or "CLIENTNAME":
                ClientName = NullIfEmpty(value);
                break;
            case "PROTOCOL":
                Protocol = value.ToUpperInvariant() switch
                {
                    "RESP2" or "2" => RedisProtocol.Resp2,
                    "RESP3" or "3" => RedisProtocol.Resp3,
                    _ => throw Invalid(key, value, "resp2 or resp3"),
                };
                break;
            case "CONNECTTIMEOUT":
                ConnectTimeout = ParseDuration(key, value);
                break;
            case "COMMANDTIMEOUT" or "SYNCTIMEOUT":
                CommandTimeout = ParseDuration(key, value);
                break;
            case "BLOCKINGCONNECTIONS":
                BlockingConnections = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw Invalid(key, value, "a whole number of at least 1");
                break;
            default:
                throw new RedisConfigurationException($"Unknown Redis setting '{key}'. Known settings: {string.Join(", ", Keys)}.");
        }
    }

    /// <summary>The settings as a connection string with secrets masked, for logs and <c>config check</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(string.Join(',', Endpoints));
        void Add(string key, object? value)
        {
            if (value is not null)
            {
                text.Append(',').Append(key).Append('=').Append(value);
            }
        }

        Add("mode", Mode == RedisMode.Standalone ? null : Mode.ToString().ToLowerInvariant());
        Add("serviceName", MasterName);
        Add("user", User);
        Add("password", Password is null ? null : "*****");
        Add("sentinelPassword", SentinelPassword is null ? null : "*****");
        Add("database", Database == 0 ? null : Database);
        Add("tls", Tls ? "true" : null);
        Add("tlsCaFile", TlsCaFile);
        Add("name", ClientName);
        Add("protocol", Protocol == RedisProtocol.Resp2 ? null : "resp3");
        return text.ToString();
    }

    private static RedisOptions ParseUri(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new RedisConfigurationException($"'{MaskUri(text)}' is not a valid redis:// URI; expected redis://[user:password@]host[:port][/database].");
        }

        var options = new RedisOptions { Tls = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase) };
        options.Endpoints.Add(new RedisEndpoint(uri.Host.Trim('[', ']'), uri.IsDefaultPort || uri.Port < 0 ? 6379 : uri.Port));
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            var user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            var password = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            if (password is null)
            {
                options.Password = user;   // redis://secret@host is a password for the default user
            }
            else
            {
                options.User = NullIfEmpty(user);
                options.Password = password;
            }
        }

        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            options.Set("database", path);
        }

        return options;
    }

    private static void SetIfPresent(RedisOptions options, Func<string, string?> variables, string variable, string key)
    {
        var value = variables(variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }

        try
        {
            options.Set(key, value);
        }
        catch (RedisConfigurationException e)
        {
            throw new RedisConfigurationException($"{variable}: {e.Message}");
        }
    }

    private static TimeSpan ParseDuration(string key, string value)
    {
        try
        {
            return ParseDurationOrThrow(key, value);
        }
        catch (Exception e) when (e is OverflowException or ArgumentException)
        {
            throw Invalid(key, value, "a duration that fits in a TimeSpan (milliseconds, or 500ms, 5s, hh:mm:ss)");
        }
    }

    private static TimeSpan ParseDurationOrThrow(string key, string value)
    {
        var v = value.Trim().ToLowerInvariant();
        double number;
        if (v.EndsWith("ms", StringComparison.Ordinal) && double.TryParse(v[..^2], NumberStyles.Float, CultureInfo.InvariantCulture, out number))
        {
            return Positive(TimeSpan.FromMilliseconds(number));
        }

        if (v.EndsWith('s') && double.TryParse(v[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out number))
        {
            return Positive(TimeSpan.FromSeconds(number));
        }

        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out number))
        {
            return Positive(TimeSpan.FromMilliseconds(number));
        }

        if (TimeSpan.TryParse(v, CultureInfo.InvariantCulture, out var span))
        {
            return Positive(span);
        }

        throw Invalid(key, value, "a duration: milliseconds (5000), or with a unit (500ms, 5s), or hh:mm:ss");

        TimeSpan Positive(TimeSpan t) => t > TimeSpan.Zero ? t : throw Invalid(key, value, "a positive duration");
    }

    private static bool ParseBool(string key, string value) => value.ToUpperInvariant() switch
    {
        "TRUE" or "1" or "YES" or "ON" => true,
        "FALSE" or "0" or "NO" or "OFF" or "" => false,
        _ => throw Invalid(key, value, "true or false"),
    };

    private static RedisConfigurationException Invalid(string key, string value, string allowed) =>
        new($"Redis setting '{key}' is '{(key.Contains("password", StringComparison.OrdinalIgnoreCase) ? "*****" : value)}'; allowed: {allowed}.");

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static string MaskUri(string text)
    {
        var at = text.LastIndexOf('@');
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        return at > 0 && scheme > 0 ? text[..(scheme + 3)] + "*****" + text[at..] : text;
    }
}
