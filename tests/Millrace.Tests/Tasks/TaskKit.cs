using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Millrace.Tests.Support;

namespace Millrace.Tests.Tasks;

/// <summary>Helpers shared by the task-record and lifecycle-event tests.</summary>
internal static class TaskKit
{
    /// <summary>Turns task state on (with optional changes to its settings) for a host being built.</summary>
    public static MillraceBuilder Tracking(this MillraceBuilder m, Action<TaskStateOptions>? configure = null)
    {
        m.Services.Configure<MillraceOptions>(o =>
        {
            o.TaskState.Enabled = true;
            configure?.Invoke(o.TaskState);
        });
        return m;
    }

    public static MillraceAdmin Admin(this TestHost host) => host.Services.GetRequiredService<MillraceAdmin>();

    /// <summary>Polls the task record of <paramref name="id"/> until <paramref name="done"/> holds; fails with the last record seen.</summary>
    public static async Task<TaskRecord> WaitForTaskAsync(this MillraceAdmin admin, string id, Func<TaskRecord, bool> done, string what, TimeSpan? within = null)
    {
        var record = await Eventually.GetAsync(() => admin.TaskAsync(id), r => r is not null && done(r), within ?? TimeSpan.FromSeconds(15),
            $"the task record of {id} to be {what}");
        return record!;
    }

    public static Task<TaskRecord> WaitForStateAsync(this MillraceAdmin admin, string id, TaskState state, TimeSpan? within = null) =>
        admin.WaitForTaskAsync(id, r => r.State == state, state.ToString(), within);

    /// <summary>Every key of the task records and events of a prefix (they share the hash tag <c>{prefix:tasks}</c>).</summary>
    public static Task<IReadOnlyList<string>> TaskKeysAsync(IRedisClient redis, string prefix) =>
        Failures.FailureKit.ScanKeysAsync(redis, $"{{{prefix}:tasks}}*");

    /// <summary>Every lifecycle event of the stream, oldest first (read with XRANGE through the public API's paging).</summary>
    public static async Task<IReadOnlyList<LifecycleEvent>> AllEventsAsync(MillraceAdmin admin)
    {
        var all = new List<LifecycleEvent>();
        var after = "0-0";
        while (true)
        {
            var page = await admin.EventsAsync(after, 1000);
            if (page.Count == 0)
            {
                return all;
            }

            all.AddRange(page);
            after = page[^1].Id;
        }
    }

    public static string Describe(TaskRecord? r) => r is null
        ? "no record"
        : $"{r.State} attempts={r.Attempts} errors=[{string.Join("; ", r.Errors.Select(e => $"{e.Attempt}: {e.Error}"))}] result={r.Result ?? "null"}";
}
