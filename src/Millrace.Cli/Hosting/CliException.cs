namespace Millrace.Cli.Hosting;

/// <summary>An error a command reports to the user: one line on stderr and the exit code that says what kind it is.</summary>
internal sealed class CliException : Exception
{
    public CliException(int exitCode, string message)
        : base(message) => ExitCode = exitCode;

    public CliException()
        : this(ExitCodes.Failed, "failed")
    {
    }

    public CliException(string message)
        : this(ExitCodes.Failed, message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException) => ExitCode = ExitCodes.Failed;

    /// <summary>See <see cref="ExitCodes"/>.</summary>
    public int ExitCode { get; }
}
