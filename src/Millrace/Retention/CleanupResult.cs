namespace Millrace;

/// <summary>What one cleanup of a queue did.</summary>
/// <param name="Deleted">Entries deleted, over every partition and priority level.</param>
/// <param name="IgnoredGroups">
/// Consumer groups found inactive (see <see cref="RetentionOptions.InactiveGroupTimeout"/>) on at least one
/// stream: they did not pin the stream, so entries they had not acknowledged may have been deleted.
/// </param>
/// <param name="Streams">The same, stream by stream.</param>
/// <param name="Policy">The policy applied.</param>
public sealed record CleanupResult(long Deleted, IReadOnlyList<string> IgnoredGroups, IReadOnlyList<StreamCleanup> Streams, RetentionPolicy Policy);
