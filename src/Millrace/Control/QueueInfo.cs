namespace Millrace;

/// <summary>What a queue holds right now, summed over its partitions and priority levels.</summary>
/// <param name="Name">The queue name.</param>
/// <param name="Partitions">How many partitions the queue has.</param>
/// <param name="Length">Entries in its streams (acknowledged entries not yet trimmed included).</param>
/// <param name="Delayed">Messages waiting for their time (delays, retries).</param>
/// <param name="DeadLetters">Entries in its dead-letter streams.</param>
/// <param name="Parked">Messages parked out of the stream (stopped, or of a paused type).</param>
/// <param name="Paused">Whether the queue is paused.</param>
/// <param name="PausedTypes">Message types paused on this queue.</param>
/// <param name="Groups">Its consumer groups.</param>
/// <param name="OldestPendingAge">Age of the oldest delivered but unacknowledged entry, over all groups; null when none.</param>
/// <param name="CreatedAt">When the queue was first declared.</param>
public sealed record QueueInfo(
    string Name,
    int Partitions,
    long Length,
    long Delayed,
    long DeadLetters,
    long Parked,
    bool Paused,
    IReadOnlyList<string> PausedTypes,
    IReadOnlyList<GroupInfo> Groups,
    TimeSpan? OldestPendingAge,
    DateTimeOffset? CreatedAt);

/// <summary>A consumer group of a queue, summed over partitions and levels.</summary>
/// <param name="Name">The group name.</param>
/// <param name="Pending">Entries delivered to its consumers and not yet acknowledged.</param>
/// <param name="Lag">Entries not yet delivered to the group; null when Redis cannot tell (after trimming or deletions).</param>
/// <param name="Consumers">Its consumers.</param>
public sealed record GroupInfo(string Name, long Pending, long? Lag, IReadOnlyList<ConsumerInfo> Consumers);

/// <summary>A consumer of a group.</summary>
/// <param name="Name">The consumer name (Millrace uses host:pid:n).</param>
/// <param name="Pending">Entries it holds unacknowledged.</param>
/// <param name="Idle">Time since it last read or claimed an entry (its least idle partition).</param>
public sealed record ConsumerInfo(string Name, long Pending, TimeSpan Idle);
