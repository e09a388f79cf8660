namespace Millrace;

/// <summary>What publishing one message did.</summary>
/// <param name="MessageId">The message id (task id). For a duplicate, the id of the message first published with that dedup key.</param>
/// <param name="StreamId">The stream entry id, or null for a duplicate (nothing was added).</param>
/// <param name="Partition">The partition the message went to.</param>
/// <param name="Duplicate">True when the dedup key was already taken and nothing was added.</param>
/// <param name="DeliverAt">For a delayed message, when it becomes due (it is in the delayed set until then, and <paramref name="StreamId"/> is null).</param>
/// <param name="Journaled">True when Redis was unreachable and the backup producer wrote the message to its local journal (durably) instead; it reaches Redis, with this id, when the journal is replayed (<paramref name="StreamId"/> is null).</param>
public readonly record struct PublishResult(string MessageId, string? StreamId, int Partition, bool Duplicate, DateTimeOffset? DeliverAt = null, bool Journaled = false);
