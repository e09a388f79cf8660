namespace Millrace.Cli;

/// <summary>What the exit code of <c>millrace</c> means.</summary>
public static class ExitCodes
{
    /// <summary>Done as asked.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and found something wrong (a check failed).</summary>
    public const int Failed = 1;

    /// <summary>Bad flags or settings (System.CommandLine uses 1 for parse errors too; ours is 2).</summary>
    public const int BadInput = 2;

    /// <summary>Redis could not be reached, or refused the login.</summary>
    public const int Unreachable = 3;
}
