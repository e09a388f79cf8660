using Microsoft.Extensions.Options;
using Millrace.Redis;

namespace Millrace.Cli.Hosting;

/// <summary>Turns an exception into the one line the user sees and the exit code scripts test.</summary>
internal static class CliErrors
{
    /// <summary>The exit code and a one-line message for <paramref name="error"/>; never a stack trace.</summary>
    public static (int ExitCode, string Message) Describe(Exception error)
    {
        if (error is InvalidDataException { InnerException: { } cause } unreadable)
        {
            // A settings file that is not JSON: name the file (outer) and the place (inner).
            return (ExitCodes.BadInput, OneLine($"{unreadable.Message} {cause.Message}"));
        }

        var root = Innermost(error);
        var code = root switch
        {
            CliException cli => cli.ExitCode,
            RedisAuthenticationException => ExitCodes.AuthFailed,
            RedisConnectionException or RedisTimeoutException => ExitCodes.Unreachable,
            RedisConfigurationException or OptionsValidationException or FormatException or InvalidDataException => ExitCodes.BadInput,
            ArgumentException => ExitCodes.BadInput,
            OperationCanceledException => ExitCodes.Interrupted,
            InvalidOperationException when IsConfigurationBinding(root) => ExitCodes.BadInput,
            _ => ExitCodes.Failed,
        };

        var message = root switch
        {
            OptionsValidationException invalid => "invalid settings: " + string.Join("; ", invalid.Failures),
            OperationCanceledException => "interrupted",
            InvalidDataException or FormatException when root.Message.Contains("JSON", StringComparison.OrdinalIgnoreCase) => "a settings file is not valid JSON: " + root.Message,
            CliException or RedisException or ArgumentException or InvalidOperationException => root.Message,
            _ => $"{root.GetType().Name}: {root.Message}",
        };

        // A wrapper that says more than its cause (e.g. "Millrace cannot start: ...") keeps its own words.
        if (!ReferenceEquals(root, error) && error is InvalidOperationException && error.Message.Contains(root.Message, StringComparison.Ordinal))
        {
            message = error.Message;
        }

        return (code, OneLine(message));
    }

    /// <summary>Collapses a message to one line.</summary>
    public static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    // The cause that names the real problem: through wrappers (hosting's AggregateException, "cannot start" wrappers).
    private static Exception Innermost(Exception error)
    {
        var current = error;
        while (true)
        {
            if (current is AggregateException { InnerExceptions.Count: > 0 } aggregate)
            {
                current = aggregate.InnerExceptions[0];
                continue;
            }

            if (current is CliException or RedisException or OptionsValidationException || current.InnerException is null)
            {
                return current;
            }

            current = current.InnerException;
        }
    }

    private static bool IsConfigurationBinding(Exception error) =>
        error.Message.Contains("configuration", StringComparison.OrdinalIgnoreCase) || error.Message.Contains("Failed to convert", StringComparison.Ordinal);
}
