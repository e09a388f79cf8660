using System.Globalization;

namespace Millrace.Redis;

/// <summary>A host and port.</summary>
/// <param name="Host">Host name or IP address.</param>
/// <param name="Port">TCP port.</param>
public sealed record RedisEndpoint(string Host, int Port)
{
    /// <summary>Parses <c>host:port</c>, <c>host</c> (port 6379) or <c>[ipv6]:port</c>.</summary>
    public static RedisEndpoint Parse(string text, int defaultPort = 6379)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        if (value.Length == 0)
        {
            throw new RedisConfigurationException("An address is empty; write it as host:port, e.g. 127.0.0.1:6379.");
        }

        string host;
        string? port = null;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new RedisConfigurationException($"Address '{text}' opens '[' without closing it.");
            }

            host = value[1..close];
            if (close + 1 < value.Length)
            {
                port = value[(close + 1)..].TrimStart(':');
            }
        }
        else
        {
            if (value.Count(c => c == ':') > 1)
            {
                throw new RedisConfigurationException($"Address '{text}' looks like an IPv6 address; write it in brackets with a port, e.g. [{value}]:6379.");
            }

            var colon = value.LastIndexOf(':');
            host = colon < 0 ? value : value[..colon];
            port = colon < 0 ? null : value[(colon + 1)..];
        }

        var number = defaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number is < 1 or > 65535))
        {
            throw new RedisConfigurationException($"Address '{text}' has port '{port}'; a port is a number from 1 to 65535.");
        }

        if (host.Length == 0)
        {
            throw new RedisConfigurationException($"Address '{text}' has no host; write it as host:port.");
        }

        return new RedisEndpoint(host, number);
    }

    /// <inheritdoc />
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
