namespace Millrace;

public sealed partial class MillraceAdmin
{
    /// <summary>The worker processes that reported within <see cref="WorkerRegistry.StaleAfter"/>, with their heartbeats and counts.</summary>
    public Task<IReadOnlyList<WorkerInfo>> WorkersAsync(CancellationToken cancellationToken = default) =>
        WorkerRegistry.ReadAsync(Redis, _runtime.Prefix, _runtime.Time.GetUtcNow(), cancellationToken);

    /// <summary>
    /// Per-minute counts over the last <paramref name="minutes"/> minutes (1 to 120), oldest first, added up
    /// over every process; for one queue, or for all queues when <paramref name="queue"/> is null.
    /// Processes add their counts once a second, so the current minute trails by up to a second.
    /// </summary>
    public Task<IReadOnlyList<StatsBucket>> StatsAsync(string? queue, int minutes = 15, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minutes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minutes, (int)QueueStatistics.Retention.TotalMinutes);
        if (queue is not null)
        {
            QueueName.Validate(queue);
        }

        return QueueStatistics.ReadAsync(Redis, _runtime.Prefix, queue, minutes, _runtime.Time.GetUtcNow(), cancellationToken);
    }
}
