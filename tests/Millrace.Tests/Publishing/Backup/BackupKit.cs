using System.Text;
using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;

namespace Millrace.Tests.Publishing.Backup;

/// <summary>Helpers for backup producer tests: a host on a private redis-server with a journal in a temp directory.</summary>
internal static class BackupKit
{
    public const string JobType = "journal.test";

    public static string NewDirectory()
    {
        var directory = Path.Combine(Path.GetTempPath(), "millrace-journal-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    public static RedisOptions OptionsFor(RedisServerProcess server)
    {
        var options = new RedisOptions { ClientName = "millrace-backup-tests", MaxReconnectBackoff = TimeSpan.FromMilliseconds(200) };
        options.Endpoints.Add(server.Endpoint);
        return options;
    }

    /// <summary>A started host whose publisher is the backup producer (journal in <paramref name="directory"/>).</summary>
    public static Task<TestHost> StartHostAsync(
        RedisServerProcess server, string directory, string? prefix, Action<BackupJournalOptions>? journal = null, Action<MillraceBuilder>? configure = null, bool start = true) =>
        TestHost.StartAsync(m =>
        {
            m.Services.Configure<MillraceOptions>(o =>
            {
                var options = new BackupJournalOptions { Directory = directory, ReplayInterval = TimeSpan.FromMilliseconds(100) };
                journal?.Invoke(options);
                o.BackupJournal = options;
            });
            configure?.Invoke(m);
        }, prefix, OptionsFor(server), start);

    public static OutgoingMessage Message(string queue, int sequence, string? partitionKey = null) => new()
    {
        Queue = queue,
        Type = JobType,
        Payload = Encoding.ASCII.GetBytes(sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        PartitionKey = partitionKey,
    };

    /// <summary>Every message in a queue's partition stream, oldest first (id and payload as text).</summary>
    public static async Task<IReadOnlyList<(string Id, string Payload)>> StreamAsync(IRedisClient redis, string prefix, string queue, int partitions = 1, int partition = 0)
    {
        var keys = new QueueKeys(prefix, queue, partitions);
        var all = new List<(string, string)>();
        var start = "-";
        while (true)
        {
            var entries = await redis.XRangeAsync(keys.Stream(partition), start, "+", 1000);
            foreach (var entry in entries)
            {
                var message = Envelope.Decode(entry, queue, partition);
                all.Add((message.Id, Encoding.ASCII.GetString(message.Payload.Span)));
            }

            if (entries.Count < 1000)
            {
                return all;
            }

            start = "(" + entries[^1].Id;
        }
    }

    public static Task<long> LengthAsync(IRedisClient redis, string prefix, string queue) =>
        redis.XLenAsync(new QueueKeys(prefix, queue, 1).Stream(0));

    public static BackupJournal Journal(TestHost host) => host.Services.GetRequiredService<BackupJournal>();

    public static Task WaitUntilReplayedAsync(TestHost host, TimeSpan within) =>
        Eventually.GetAsync(() => Task.FromResult(Journal(host).State), s => !s.Journaling, within, "the journal to be replayed and publishing to go direct again");
}
