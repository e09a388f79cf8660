using System.Globalization;
using Microsoft.Extensions.Options;
using Millrace.Redis;

namespace Millrace.Server;

/// <summary>
/// The audit log: a Redis stream <c>&lt;prefix&gt;:audit</c>, capped at
/// <see cref="MillraceServerOptions.AuditMaxLength"/> entries (approximately: Redis trims whole nodes).
/// </summary>
internal sealed class AuditLog(IRedisClient redis, IOptions<MillraceOptions> millrace, IOptions<MillraceServerOptions> server, TimeProvider time)
{
    public string Key { get; } = $"{millrace.Value.Prefix}:audit";   // the namespace's prefix, as the queues use

    public async Task AppendAsync(string who, string? role, string method, string path, string? target, int status, string? remote, CancellationToken cancellationToken)
    {
        var fields = new List<StreamField>
        {
            new("at", time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)),
            new("who", who),
            new("method", method),
            new("path", path),
            new("status", status.ToString(CultureInfo.InvariantCulture)),
        };
        if (role is not null)
        {
            fields.Add(new("role", role));
        }

        if (target is not null)
        {
            fields.Add(new("target", target));
        }

        if (remote is not null)
        {
            fields.Add(new("remote", remote));
        }

        await redis.XAddAsync(Key, fields, maxLength: server.Value.AuditMaxLength, approximate: true, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The newest entries first, up to <paramref name="limit"/>, older than <paramref name="before"/> when given.</summary>
    public async Task<IReadOnlyList<AuditEntry>> ReadAsync(int limit, string? before, CancellationToken cancellationToken)
    {
        var entries = await redis.XRevRangeAsync(Key, before is null ? "+" : "(" + before, "-", limit, cancellationToken).ConfigureAwait(false);
        return entries.Select(e => new AuditEntry(
            e.Id,
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(e.GetString("at") ?? "0", CultureInfo.InvariantCulture)),
            e.GetString("who") ?? "",
            e.GetString("role"),
            e.GetString("method") ?? "",
            e.GetString("path") ?? "",
            e.GetString("target"),
            int.Parse(e.GetString("status") ?? "0", CultureInfo.InvariantCulture),
            e.GetString("remote"))).ToArray();
    }
}
