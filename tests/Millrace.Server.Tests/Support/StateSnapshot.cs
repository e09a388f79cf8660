using System.Text;
using Millrace.Redis;

namespace Millrace.Server.Tests.Support;

/// <summary>
/// Everything a refused call could have changed, as one comparable string: every key under the
/// test's prefix with its type and content digest (the audit stream and the per-minute statistics,
/// which record the refusal itself and background counts, are left out).
/// </summary>
public static class StateSnapshot
{
    public static async Task<string> TakeAsync(ServerHost server)
    {
        var redis = server.Redis;
        var keys = new List<string>();
        var cursor = "0";
        do
        {
            var reply = await redis.ExecuteAsync(new RedisCommand("SCAN", [cursor, "MATCH", server.Prefix + ":*", "COUNT", 1000], 0));
            cursor = reply[0].AsString()!;
            keys.AddRange(reply[1].Items.Select(i => i.AsString()!));
        }
        while (cursor != "0");

        var text = new StringBuilder();
        foreach (var key in keys.Where(k => !k.EndsWith(":audit", StringComparison.Ordinal) && !k.Contains(":stats:", StringComparison.Ordinal)
                     && !k.EndsWith(":workers", StringComparison.Ordinal) && !k.Contains(":tasks:", StringComparison.Ordinal)
                     && !k.Contains(":events", StringComparison.Ordinal) && !k.Contains(":inflight", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var type = (await redis.ExecuteAsync(new RedisCommand("TYPE", [key], 0))).AsString();
            var content = type switch
            {
                "stream" => string.Join(",", (await redis.XRangeAsync(key)).Select(e => e.Id)),
                "hash" => string.Join(",", (await redis.HGetAllAsync(key)).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value)),
                "set" => string.Join(",", (await redis.ExecuteAsync(new RedisCommand("SMEMBERS", [key], 0))).Items.Select(i => i.AsString()).Order(StringComparer.Ordinal)),
                "zset" => string.Join(",", (await redis.ExecuteAsync(new RedisCommand("ZRANGE", [key, 0, -1], 0))).Items.Select(i => i.AsString())),
                "string" => await redis.GetStringAsync(key),
                _ => type,
            };
            text.Append(key).Append(' ').Append(type).Append(' ').Append(content).Append('\n');
        }

        return text.ToString();
    }
}
