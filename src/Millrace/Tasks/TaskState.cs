namespace Millrace;

/// <summary>Where a message stands, as its task record says.</summary>
public enum TaskState
{
    /// <summary>In its stream, waiting for a consumer.</summary>
    Pending,

    /// <summary>Waiting for its time: delayed or scheduled at publish.</summary>
    Scheduled,

    /// <summary>A handler is running it.</summary>
    Processing,

    /// <summary>Its handler succeeded.</summary>
    Succeeded,

    /// <summary>An attempt failed and another one is scheduled.</summary>
    Failed,

    /// <summary>In the dead-letter queue.</summary>
    Dead,

    /// <summary>Stopped by an operator (or its type paused): parked out of the stream.</summary>
    Stopped,
}
