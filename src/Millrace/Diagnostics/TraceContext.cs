using System.Diagnostics;

namespace Millrace;

/// <summary>W3C trace context in message headers: <c>traceparent</c> and <c>tracestate</c>.</summary>
internal static class TraceContext
{
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";

    /// <summary>The headers to publish: the caller's, plus the current activity's trace context when there is one.</summary>
    public static IReadOnlyDictionary<string, string>? Inject(IReadOnlyDictionary<string, string>? headers, Activity? activity)
    {
        if (activity is null)
        {
            return headers;
        }

        var result = headers is null ? new Dictionary<string, string>(2) : new Dictionary<string, string>(headers);
        result[TraceParent] = activity.Id!;
        if (activity.TraceStateString is { } state)
        {
            result[TraceState] = state;
        }

        return result;
    }

    /// <summary>The parent context a message carries, if any.</summary>
    public static ActivityContext Extract(IReadOnlyDictionary<string, string> headers)
    {
        if (headers.TryGetValue(TraceParent, out var parent)
            && ActivityContext.TryParse(parent, headers.TryGetValue(TraceState, out var state) ? state : null, out var context))
        {
            return context;
        }

        return default;
    }
}
