using Microsoft.Extensions.Logging;

namespace Millrace;

/// <summary>The retention sweep's log lines (source-generated).</summary>
internal static partial class RetentionLog
{
    [LoggerMessage(401, LogLevel.Information, "Retention: sweeping {Count} queues every {Interval}")]
    public static partial void Started(ILogger logger, int count, TimeSpan interval);

    [LoggerMessage(402, LogLevel.Information, "Retention: deleted {Deleted} entries from queue {Queue} ({Policy})")]
    public static partial void Cleaned(ILogger logger, long deleted, string queue, RetentionPolicy policy);

    [LoggerMessage(403, LogLevel.Warning, "Retention: on queue {Queue}, consumer groups {Groups} are inactive (idle longer than {Timeout}); they no longer pin the stream, and entries they have not acknowledged are deleted once older than {MaxAge}")]
    public static partial void InactiveGroups(ILogger logger, string queue, string groups, TimeSpan timeout, TimeSpan maxAge);

    [LoggerMessage(404, LogLevel.Error, "Retention: cleaning queue {Queue} failed; trying again at the next sweep")]
    public static partial void Failed(ILogger logger, Exception error, string queue);

    [LoggerMessage(405, LogLevel.Debug, "Retention: queue {Queue} is not declared yet; skipped")]
    public static partial void NotDeclared(ILogger logger, string queue);
}
