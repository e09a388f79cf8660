using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Millrace.Server;

/// <summary>
/// The configured API keys, compared in constant time over their SHA-256 digests. With auth on and
/// no key configured, one admin key is generated at start and logged once (it lives until the process stops).
/// </summary>
internal sealed partial class ApiKeyStore
{
    private readonly (byte[] Digest, string Name, MillraceRole Role)[] _keys;

    public ApiKeyStore(IOptions<MillraceServerOptions> options, ILogger<ApiKeyStore> log)
    {
        var auth = options.Value.Auth;
        AuthDisabled = auth.DisableAuthUnsafeForLocalDevelopment;
        var keys = auth.Keys.Select(k => (Digest(k.Key), k.Name, k.Role)).ToList();
        if (AuthDisabled)
        {
            LogAuthDisabled(log, MillraceServerOptions.SectionName);
        }
        else if (keys.Count == 0)
        {
            GeneratedKey = "mr_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            keys.Add((Digest(GeneratedKey), "generated-admin", MillraceRole.Admin));
            LogGeneratedKey(log, GeneratedKey, MillraceServerOptions.SectionName);
        }

        _keys = [.. keys];
    }

    /// <summary>True when Millrace:Server:Auth:DisableAuthUnsafeForLocalDevelopment is set.</summary>
    public bool AuthDisabled { get; }

    /// <summary>The admin key generated at start because none was configured; null otherwise.</summary>
    public string? GeneratedKey { get; }

    /// <summary>The key's holder, or null when no key matches.</summary>
    public (string Name, MillraceRole Role)? Find(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return null;
        }

        var digest = Digest(presented);
        (string, MillraceRole)? found = null;
        foreach (var key in _keys)
        {
            // Every key is compared, in constant time, so timing says nothing about which one nearly matched.
            if (CryptographicOperations.FixedTimeEquals(key.Digest, digest))
            {
                found = (key.Name, key.Role);
            }
        }

        return found;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    [LoggerMessage(Level = LogLevel.Warning, Message = "AUTHENTICATION IS OFF ({Section}:Auth:DisableAuthUnsafeForLocalDevelopment = true): anyone who can reach this server is an admin. Never run it like this outside your own machine.")]
    private static partial void LogAuthDisabled(ILogger log, string section);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No API key is configured ({Section}:Auth:Keys), so an admin key was generated for this run: {Key} . Sign in to the dashboard with it or send it as X-Api-Key. Configure keys to make them last.")]
    private static partial void LogGeneratedKey(ILogger log, string key, string section);
}
