namespace Millrace;

/// <summary>What a handler holds while it runs under flow control: a concurrency lease, or nothing.</summary>
internal readonly record struct FlowPermit(string? Type, string? Lease)
{
    public static FlowPermit None => default;
}
