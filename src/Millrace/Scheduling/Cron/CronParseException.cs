namespace Millrace;

/// <summary>
/// Thrown by <see cref="CronExpression.Parse(string)"/> when an expression is not valid cron. The message names the
/// expression, the field ("minute", "hour", ...), the offending text and what the field allows, for example
/// <c>Cron "61 * * * *": minute value 61 is outside 0-59.</c>
/// </summary>
public sealed class CronParseException : FormatException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public CronParseException()
        : base("The cron expression is not valid.")
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public CronParseException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and the exception that caused it.</summary>
    public CronParseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="expression"/>, prefixing the message with it.</summary>
    internal CronParseException(string? expression, string problem)
        : base(expression is null ? $"Cron expression is null: {problem}" : $"Cron \"{expression}\": {problem}")
    {
        Expression = expression;
    }

    /// <summary>The expression that failed to parse, when known.</summary>
    public string? Expression { get; }
}
