using System.Diagnostics.Tracing;
using System.Globalization;

namespace Millrace.Bench;

/// <summary>
/// A sampling allocation profile from inside the process: the runtime raises a GCAllocationTick event
/// about every 100 KB allocated, naming the type of the object that crossed the mark, so summing the
/// ticks by type shows which types the bytes go to. Opt-in (<c>--alloc-profile 1</c>): listening costs a little.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly Lock _gate = new();
    private Dictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private bool _enabled;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_enabled || eventData.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.PayloadNames is not { } names)
        {
            return;
        }

        var typeIndex = names.IndexOf("TypeName");
        var amountIndex = names.IndexOf("AllocationAmount64");
        if (amountIndex < 0)
        {
            amountIndex = names.IndexOf("AllocationAmount");
        }

        if (typeIndex < 0 || amountIndex < 0)
        {
            return;
        }

        var type = eventData.Payload![typeIndex] as string ?? "?";
        var amount = Convert.ToInt64(eventData.Payload[amountIndex], CultureInfo.InvariantCulture);
        lock (_gate)
        {
            _bytes[type] = _bytes.GetValueOrDefault(type) + amount;
        }
    }

    /// <summary>Starts a new sample (forgets the previous one).</summary>
    public void Start()
    {
        lock (_gate)
        {
            _bytes = new Dictionary<string, long>(StringComparer.Ordinal);
            _enabled = true;
        }
    }

    /// <summary>Stops and describes the sample: the types taking most bytes, per operation.</summary>
    public string Stop(long ops, int top = 12)
    {
        Dictionary<string, long> bytes;
        lock (_gate)
        {
            _enabled = false;
            bytes = _bytes;
        }

        var total = bytes.Values.Sum();
        if (total == 0)
        {
            return "allocation sample: no ticks";
        }

        return "allocation sample (bytes/op by type): " + string.Join(", ", bytes.OrderByDescending(b => b.Value).Take(top).Select(b =>
            string.Create(CultureInfo.InvariantCulture, $"{b.Key} {(double)b.Value / ops:F0} ({(double)b.Value / total:P0})")));
    }
}
