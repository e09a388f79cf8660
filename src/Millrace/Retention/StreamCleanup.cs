namespace Millrace;

/// <summary>What one cleanup did to one stream (a partition at a priority level).</summary>
/// <param name="Stream">The stream key.</param>
/// <param name="Deleted">Entries deleted.</param>
/// <param name="Length">Entries left in the stream afterwards.</param>
/// <param name="IgnoredGroups">Groups of this stream found inactive, whose boundary was ignored.</param>
public sealed record StreamCleanup(string Stream, long Deleted, long Length, IReadOnlyList<string> IgnoredGroups);
