using System.Globalization;

namespace Millrace;

/// <summary>
/// Where task records and lifecycle events live: every key shares the hash tag <c>{prefix:tasks}</c>
/// so one script moves a record between indexes atomically (on Cluster the records of a namespace
/// share one slot: tracking is for inspection, not for the delivery path).
/// </summary>
/// <remarks>
/// Indexes are sorted sets of members <c>{updatedMs:D13}|{id}</c> all scored 0, so lexicographic order
/// is time order and pages are stable ranges; members older than the TTL are cut by range.
/// </remarks>
internal sealed class TaskKeys
{
    public static readonly TaskState[] States = Enum.GetValues<TaskState>();

    private readonly string _tag;

    public TaskKeys(string prefix) => _tag = $"{{{prefix}:tasks}}";

    public string Record(string id) => $"{_tag}:task:{id}";

    public string Errors(string id) => $"{_tag}:task:{id}:errors";

    public string All => $"{_tag}:all";

    public string ByState(TaskState state) => $"{_tag}:state:{Name(state)}";

    public string ByType(string type) => $"{_tag}:type:{type}";

    /// <summary>State first: a type name may contain ':', so "type:{type}" alone could never end like this key.</summary>
    public string ByTypeAndState(string type, TaskState state) => $"{_tag}:typestate:{Name(state)}:{type}";

    public string ByQueue(string queue) => $"{_tag}:queue:{queue}";

    /// <summary>The lifecycle event stream.</summary>
    public string Events => $"{_tag}:events";

    public static string Name(TaskState state) => state.ToString().ToLowerInvariant();

    public static string Member(long updatedMs, string id) => updatedMs.ToString("D13", CultureInfo.InvariantCulture) + "|" + id;

    public static string IdOf(string member) => member[(member.IndexOf('|', StringComparison.Ordinal) + 1)..];

    public static bool IsMember(string cursor) =>
        cursor.Length > 14 && cursor[13] == '|' && cursor.AsSpan(0, 13).IndexOfAnyExceptInRange('0', '9') < 0;
}
