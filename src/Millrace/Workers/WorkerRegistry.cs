using System.Buffers;
using System.Text;
using System.Text.Json;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Worker heartbeats: each process that runs consumers writes its <see cref="WorkerInfo"/> as JSON into
/// the hash <c>{prefix}:workers</c> every <see cref="Interval"/>, and removes it at a graceful stop.
/// Readers drop (and delete) entries older than <see cref="StaleAfter"/>: workers that died.
/// </summary>
public static class WorkerRegistry
{
    /// <summary>How often a worker reports.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>After how long without a report a worker counts as gone.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(30);

    internal static string Key(string prefix) => $"{prefix}:workers";

    internal static RedisCommand Report(string prefix, WorkerInfo worker) =>
        new("HSET", [Key(prefix), worker.Id, ToJson(worker)], 0);

    internal static RedisCommand Remove(string prefix, string id) => new("HDEL", [Key(prefix), id], 0);

    internal static async Task<IReadOnlyList<WorkerInfo>> ReadAsync(IRedisClient redis, string prefix, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var entries = (await redis.ExecuteAsync(new RedisCommand("HGETALL", [Key(prefix)], 0), cancellationToken).ConfigureAwait(false)).AsPairs().ToList();
        var workers = new List<WorkerInfo>();
        var stale = new List<RedisArg>();
        foreach (var (id, json) in entries)
        {
            var worker = FromJson(id, json.AsString()!);
            if (worker is null || now - worker.LastHeartbeat > StaleAfter)
            {
                stale.Add(id);
            }
            else
            {
                workers.Add(worker);
            }
        }

        if (stale.Count > 0)
        {
            await redis.ExecuteAsync(new RedisCommand("HDEL", [Key(prefix), .. stale], 0), cancellationToken).ConfigureAwait(false);
        }

        return [.. workers.OrderBy(w => w.Id, StringComparer.Ordinal)];
    }

    private static string ToJson(WorkerInfo worker)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("host", worker.Host);
            json.WriteNumber("pid", worker.ProcessId);
            json.WriteStartArray("queues");
            foreach (var queue in worker.Queues)
            {
                json.WriteStringValue(queue);
            }

            json.WriteEndArray();
            json.WriteNumber("started_at", worker.StartedAt.ToUnixTimeMilliseconds());
            json.WriteNumber("heartbeat", worker.LastHeartbeat.ToUnixTimeMilliseconds());
            json.WriteNumber("processed", worker.Processed);
            json.WriteNumber("failed", worker.Failed);
            json.WriteNumber("in_flight", worker.InFlight);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static WorkerInfo? FromJson(string id, string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            return new WorkerInfo(
                id,
                root.GetProperty("host").GetString() ?? "",
                root.GetProperty("pid").GetInt32(),
                [.. root.GetProperty("queues").EnumerateArray().Select(q => q.GetString() ?? "")],
                DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("started_at").GetInt64()),
                DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("heartbeat").GetInt64()),
                root.GetProperty("processed").GetInt64(),
                root.GetProperty("failed").GetInt64(),
                root.GetProperty("in_flight").GetInt32());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;   // not written by a Millrace worker of this format: treated as stale and removed
        }
    }
}
