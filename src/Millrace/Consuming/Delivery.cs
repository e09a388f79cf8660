using Millrace.Redis;

namespace Millrace;

/// <summary>One stream entry handed to this process, from a read or a reclaim.</summary>
internal sealed record Delivery(StreamEntry Entry, int Partition, bool Redelivered, int Level = 0)
{
    /// <summary>The flow-control permit granted while it waited (null: not yet asked).</summary>
    public FlowPermit? Permit { get; init; }
}
