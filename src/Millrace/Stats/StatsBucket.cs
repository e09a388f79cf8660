namespace Millrace;

/// <summary>What happened on a queue (or on all queues) in one minute, counted by every process.</summary>
/// <param name="Minute">The start of the minute (UTC).</param>
/// <param name="Published">Messages published.</param>
/// <param name="Processed">Messages handled successfully.</param>
/// <param name="Failed">Handler runs that failed (including the failures that were then retried).</param>
/// <param name="Retried">Failed messages scheduled for another attempt.</param>
/// <param name="DeadLettered">Messages moved to the dead-letter queue.</param>
public sealed record StatsBucket(DateTimeOffset Minute, long Published, long Processed, long Failed, long Retried, long DeadLettered);
