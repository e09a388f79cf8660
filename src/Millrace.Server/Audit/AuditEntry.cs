namespace Millrace.Server;

/// <summary>One mutating call as the audit log keeps it.</summary>
/// <param name="Id">The audit stream entry id.</param>
/// <param name="At">When the call finished.</param>
/// <param name="Who">The key name (or "(no key)" when none was valid).</param>
/// <param name="Role">The caller's role, when known.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path called.</param>
/// <param name="Target">What it acted on (queue, message, type...), from the route.</param>
/// <param name="Status">The HTTP status answered.</param>
/// <param name="Remote">The caller's address.</param>
internal sealed record AuditEntry(string Id, DateTimeOffset At, string Who, string? Role, string Method, string Path, string? Target, int Status, string? Remote);
