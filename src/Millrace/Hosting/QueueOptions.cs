namespace Millrace;

/// <summary>How one queue is laid out and capped.</summary>
public sealed class QueueOptions
{
    internal static QueueOptions Default { get; } = new();

    /// <summary>Partitions (default 1). Each is a stream with its own hash tag, so on Cluster they spread over shards.</summary>
    public int Partitions { get; set; } = 1;

    /// <summary>
    /// Approximate cap on each partition's length. When a partition grows past it, the oldest entries
    /// that every group has acknowledged are trimmed (checked at most once a second, during publishes).
    /// Entries some group has not acknowledged are kept unless <see cref="MaxLengthDropsUnacknowledged"/>.
    /// </summary>
    public long? MaxLength { get; set; }

    /// <summary>
    /// Priority levels (1 to 10; 1 means no priorities). A message goes to the level of its priority
    /// (0 is the lowest; larger priorities are clamped to the top level). Each level is its own
    /// stream in the partition's slot.
    /// </summary>
    public int PriorityLevels { get; set; } = 1;

    /// <summary>How consumers choose between levels that have messages waiting.</summary>
    public PriorityMode PriorityMode { get; set; } = PriorityMode.Strict;

    /// <summary>
    /// For <see cref="PriorityMode.Weighted"/>: each level's share, lowest level first (e.g. 1, 3 gives the
    /// top level three reads in four). Default: 1, 2, 4, ... doubling per level.
    /// </summary>
    public IList<int> PriorityWeights { get; set; } = new List<int>();

    /// <summary>
    /// For <see cref="PriorityMode.Strict"/>, the no-starvation option: every Nth read serves the lowest
    /// waiting level first, so low levels keep moving under a flood of high ones (0: pure strict).
    /// </summary>
    public int StarvationGuard { get; set; }

    /// <summary>
    /// How long entries that every group has acknowledged are kept (see <see cref="RetentionPolicy"/>);
    /// null (the default): the background retention sweep leaves this queue alone.
    /// </summary>
    public RetentionPolicy? Retention { get; set; }

    /// <summary>Let <see cref="MaxLength"/> trim entries no matter who has read them (plain <c>MAXLEN ~</c>). Loses unprocessed messages: off by default.</summary>
    public bool MaxLengthDropsUnacknowledged { get; set; }
}
