using Millrace.Tests.Support;

namespace Millrace.Tests.Tasks;

/// <summary>Message types are free text: a listing by type must not mix up types whose names look like index names.</summary>
public sealed class TaskTypeNameTests
{
    private const string Queue = "reports";

    [Fact]
    public async Task Given_types_report_and_report_colon_pending_when_listed_by_type_then_each_listing_holds_only_its_own_type()
    {
        await using var host = await TestHost.StartAsync(m => m.Tracking());
        var admin = host.Admin();
        var plain = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = "report", Payload = "r"u8.ToArray() });
        var colon = await host.Publisher.PublishAsync(new OutgoingMessage { Queue = Queue, Type = "report:pending", Payload = "c"u8.ToArray() });

        var byColonType = await admin.TasksAsync(new TaskQuery { Type = "report:pending" });
        var byPlainPending = await admin.TasksAsync(new TaskQuery { Type = "report", State = TaskState.Pending });

        Assert.True(byColonType.Items.All(r => r.Type == "report:pending"),
            $"Expected Type = 'report:pending' to list only that type, but it listed: {string.Join(", ", byColonType.Items.Select(r => $"{r.Id} ({r.Type})"))}");
        Assert.Equal([colon.MessageId], byColonType.Items.Select(r => r.Id));
        Assert.True(byPlainPending.Items.All(r => r.Type == "report"),
            $"Expected Type = 'report' and State = Pending to list only type 'report', but it listed: {string.Join(", ", byPlainPending.Items.Select(r => $"{r.Id} ({r.Type})"))}");
        Assert.Equal([plain.MessageId], byPlainPending.Items.Select(r => r.Id));
    }
}
