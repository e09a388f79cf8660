namespace Millrace;

/// <summary>Why a consumer stopped.</summary>
public enum ConsumerStopReason
{
    /// <summary>It was asked to (host shutdown, SIGTERM/SIGINT, <c>StopAsync</c>).</summary>
    Requested,
    /// <summary>It stopped by itself: its queue or group was deleted (NOGROUP, or the stream is gone).</summary>
    QueueDeleted,
}
