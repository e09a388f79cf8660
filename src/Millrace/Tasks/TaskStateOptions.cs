namespace Millrace;

/// <summary>
/// Task records and lifecycle events. Off by default: when on, every publish and every handler run
/// writes to Redis once more (one script call per change), which costs throughput; turn it on where
/// operators want to look messages up by id, state or type.
/// </summary>
public sealed class TaskStateOptions
{
    /// <summary>Whether task records and lifecycle events are written.</summary>
    public bool Enabled { get; set; }

    /// <summary>How long a record is kept after its last change.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The most payload bytes a record keeps (the message itself is never cut).</summary>
    public int MaxPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>How many attempt errors a record keeps (the latest).</summary>
    public int MaxErrors { get; set; } = 20;

    /// <summary>The approximate length the lifecycle event stream is capped at; 0 writes no events.</summary>
    public int EventsMaxLength { get; set; } = 100_000;
}
