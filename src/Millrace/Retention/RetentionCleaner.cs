using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Cleans one queue under a retention policy: every partition, every priority level stream, each in
/// batches (one script call deletes at most <see cref="RetentionOptions.BatchSize"/> entries and is
/// called again while it fills its batch). Dead-letter streams are not touched.
/// </summary>
internal sealed class RetentionCleaner(IRedisClient redis, RetentionOptions options)
{
    public async Task<CleanupResult> CleanAsync(QueueKeys keys, RetentionPolicy policy, CancellationToken cancellationToken)
    {
        // A paused queue's consumers read nothing on purpose: its groups are not abandoned, so while
        // it is paused no group counts as inactive, however long the pause.
        var paused = await redis.HGetAsync(keys.Control, ControlFields.Paused, cancellationToken).ConfigureAwait(false) == "1";
        var args = new RedisArg[]
        {
            Milliseconds(policy.MaxAge),
            policy.MinCount,
            options.BatchSize,
            !paused && options.InactiveGroupTimeout is { } timeout ? Milliseconds(timeout) : -1L,
        };
        var streams = new List<StreamCleanup>();
        for (var p = 0; p < keys.Partitions; p++)
        {
            foreach (var stream in keys.LevelStreams(p))
            {
                streams.Add(await CleanStreamAsync(stream, args, keys.Queue, cancellationToken).ConfigureAwait(false));
            }
        }

        return new CleanupResult(
            streams.Sum(s => s.Deleted),
            [.. streams.SelectMany(s => s.IgnoredGroups).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            streams,
            policy);
    }

    private async Task<StreamCleanup> CleanStreamAsync(string stream, RedisArg[] args, string queue, CancellationToken cancellationToken)
    {
        var command = RetentionScripts.Clean.Command([stream, RetentionScripts.IdleGroups(stream)], args);
        long deleted = 0;
        var ignored = new SortedSet<string>(StringComparer.Ordinal);
        while (true)
        {
            // Each call is atomic: it deletes only what every active group has acknowledged at that
            // instant. A crash between calls leaves a stream partly cleaned, never an entry lost early.
            var reply = await redis.ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
            var (batch, length) = (reply[0].AsInt64(), reply[1].AsInt64());
            ignored.UnionWith(reply[2].Items.Select(g => g.AsString()!));
            if (batch > 0)
            {
                deleted += batch;
                RetentionMetrics.Deleted.Add(batch, new KeyValuePair<string, object?>("queue", queue));
            }

            if (batch < options.BatchSize)
            {
                return new StreamCleanup(stream, deleted, length, [.. ignored]);
            }
        }
    }

    private static long Milliseconds(TimeSpan span) => (long)span.TotalMilliseconds;
}
