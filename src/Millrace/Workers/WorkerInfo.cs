namespace Millrace;

/// <summary>A worker process as it last reported itself (every few seconds while it runs).</summary>
/// <param name="Id">The worker's id: host, process id and a random suffix.</param>
/// <param name="Host">The machine name.</param>
/// <param name="ProcessId">The operating system's process id.</param>
/// <param name="Queues">The queues it consumes.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="LastHeartbeat">When it last reported; a worker silent for longer than <see cref="WorkerRegistry.StaleAfter"/> is dropped from the list.</param>
/// <param name="Processed">Messages it handled successfully since it started.</param>
/// <param name="Failed">Handler runs that failed since it started.</param>
/// <param name="InFlight">Messages it holds right now (read and not yet acknowledged).</param>
public sealed record WorkerInfo(
    string Id,
    string Host,
    int ProcessId,
    IReadOnlyList<string> Queues,
    DateTimeOffset StartedAt,
    DateTimeOffset LastHeartbeat,
    long Processed,
    long Failed,
    int InFlight);
