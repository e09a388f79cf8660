using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Millrace.Cli.Hosting;

/// <summary>
/// Log lines for a terminal: time, level, the message, and an exception as its type and message only.
/// Stack traces belong in dead letters and task records (where <c>dlq show</c> prints them), not on a console.
/// </summary>
internal sealed class OneLineLogFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "millrace";

    public override void Write<TState>(in LogEntry<TState> logEntry, Microsoft.Extensions.Logging.IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        if (logEntry.Exception is Demo.DemoFailureException)
        {
            return;   // the demo's own failures: the fail handler prints its own line (unless --quiet)
        }

        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception) ?? "";
        var level = logEntry.LogLevel switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            LogLevel.Critical => "crit",
            _ => "    ",
        };
        var error = logEntry.Exception is { } e ? $" ({e.GetType().Name}: {e.Message})" : "";
        textWriter.WriteLine(CliErrors.OneLine($"{DateTimeOffset.UtcNow:HH:mm:ss} {level} {message}{error}"));
    }
}
