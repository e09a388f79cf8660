namespace Millrace;

/// <summary>
/// One entry of the lifecycle event stream (written when task state is on): published, started,
/// succeeded, failed, retried, dead_lettered, stopped or requeued.
/// </summary>
/// <param name="Id">The stream entry id; pass it as <c>afterId</c> to read on from here.</param>
/// <param name="Event">What happened.</param>
/// <param name="Queue">The message's queue.</param>
/// <param name="MessageId">The message id.</param>
/// <param name="Type">The message type.</param>
/// <param name="Attempt">The attempt it concerns (0 when none).</param>
/// <param name="Error">The error, for failed and dead_lettered.</param>
/// <param name="At">When it happened.</param>
public sealed record LifecycleEvent(string Id, string Event, string Queue, string MessageId, string Type, int Attempt, string? Error, DateTimeOffset At);
