using Microsoft.Extensions.Logging;

namespace Millrace;

/// <summary>The consumer's log lines (source-generated: no cost when the level is off).</summary>
internal static partial class ConsumerLog
{
    [LoggerMessage(1, LogLevel.Information, "Consumer {Consumer} started on queue {Queue} ({Partitions} partitions), group {Group}, concurrency {Concurrency}")]
    public static partial void Started(ILogger logger, string consumer, string queue, int partitions, string group, int concurrency);

    [LoggerMessage(2, LogLevel.Information, "Consumer {Consumer} on {Queue} stopped ({Reason})")]
    public static partial void Stopped(ILogger logger, string consumer, string queue, ConsumerStopReason reason);

    [LoggerMessage(3, LogLevel.Warning, "Consumer {Consumer} on {Queue}: handlers still running at the shutdown deadline; cancelling them")]
    public static partial void ShutdownDeadline(ILogger logger, string consumer, string queue);

    [LoggerMessage(4, LogLevel.Warning, "Consumer {Consumer}: queue {Queue} or group {Group} was deleted ({How}); stopping")]
    public static partial void QueueDeleted(ILogger logger, string consumer, string queue, string group, string how);

    [LoggerMessage(5, LogLevel.Warning, "Consumer {Consumer}: reading {Stream} failed ({Failures} in a row); retrying")]
    public static partial void FetchFailed(ILogger logger, Exception error, string consumer, string stream, int failures);

    [LoggerMessage(6, LogLevel.Error, "Consumer {Consumer}: entry {StreamId} on {Queue} is not a valid message: {Reason}")]
    public static partial void Poison(ILogger logger, string consumer, string streamId, string queue, string reason);

    [LoggerMessage(7, LogLevel.Error, "Consumer {Consumer}: no handler for type '{Type}' (message {MessageId} on {Queue}); it stays pending")]
    public static partial void NoHandler(ILogger logger, string consumer, string type, string messageId, string queue);

    [LoggerMessage(8, LogLevel.Error, "Consumer {Consumer}: handler for {Type} failed on message {MessageId} ({Queue}); it is retried or dead-lettered by its retry policy")]
    public static partial void HandlerFailed(ILogger logger, Exception error, string consumer, string type, string messageId, string queue);

    [LoggerMessage(9, LogLevel.Error, "Consumer {Consumer}: batch handler for {Type} failed on {Count} messages; each is retried or dead-lettered by its retry policy")]
    public static partial void BatchFailed(ILogger logger, Exception error, string consumer, string type, int count);

    [LoggerMessage(10, LogLevel.Warning, "Consumer {Consumer}: acknowledging failed ({Failures} in a row); retrying")]
    public static partial void AckFailed(ILogger logger, Exception error, string consumer, int failures);

    [LoggerMessage(11, LogLevel.Error, "Consumer {Consumer}: could not acknowledge {Count} batches for a minute; those messages will be delivered again")]
    public static partial void AckGaveUp(ILogger logger, Exception error, string consumer, int count);

    [LoggerMessage(12, LogLevel.Warning, "Consumer {Consumer}: renewing leases failed; retrying at the next tick")]
    public static partial void RenewFailed(ILogger logger, Exception error, string consumer);

    [LoggerMessage(13, LogLevel.Warning, "Consumer {Consumer}: reclaiming from {Stream} failed; retrying at the next tick")]
    public static partial void ReclaimFailed(ILogger logger, Exception error, string consumer, string stream);

    [LoggerMessage(14, LogLevel.Information, "Consumer {Consumer}: reclaimed {Count} abandoned messages from {Stream}")]
    public static partial void Reclaimed(ILogger logger, string consumer, int count, string stream);

    [LoggerMessage(15, LogLevel.Warning, "Consumer {Consumer}: entry {StreamId} on {Queue} went to the dead-letter queue ({Reason}): {Error}")]
    public static partial void Buried(ILogger logger, string consumer, string streamId, string queue, string reason, string error);

    [LoggerMessage(16, LogLevel.Warning, "Consumer {Consumer}: entry {StreamId} on {Queue} is no longer this consumer's (reclaimed elsewhere); leaving it to its owner")]
    public static partial void NotOwner(ILogger logger, string consumer, string streamId, string queue);

    [LoggerMessage(17, LogLevel.Error, "Consumer {Consumer}: could not record the failure of entry {StreamId} on {Queue}; it stays pending and runs again after the visibility timeout")]
    public static partial void FailurePathFailed(ILogger logger, Exception error, string consumer, string streamId, string queue);

    [LoggerMessage(18, LogLevel.Warning, "Consumer {Consumer}: circuit for {Type} on {Queue} is now {State}")]
    public static partial void CircuitChanged(ILogger logger, string consumer, string type, string queue, CircuitState state);

    [LoggerMessage(20, LogLevel.Warning, "Consumer {Consumer}: the task record of message {MessageId} on {Queue} could not be written; the message itself is unaffected")]
    public static partial void TrackingFailed(ILogger logger, Exception error, string consumer, string messageId, string queue);

    [LoggerMessage(19, LogLevel.Error, "Consumer {Consumer}: flow control for {Type} could not be checked or released in Redis (message {MessageId}); the message stays pending and runs after its lease, a permit expires after its lease time")]
    public static partial void FlowControlFailed(ILogger logger, Exception error, string consumer, string type, string messageId);
}
