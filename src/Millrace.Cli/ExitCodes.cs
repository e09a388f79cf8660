namespace Millrace.Cli;

/// <summary>What the exit code of <c>millrace</c> means.</summary>
public static class ExitCodes
{
    /// <summary>Done as asked.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and found something wrong (a check failed, Redis refused a command).</summary>
    public const int Failed = 1;

    /// <summary>Bad flags, arguments or settings (System.CommandLine uses 1 for parse errors; ours is 2).</summary>
    public const int BadInput = 2;

    /// <summary>Redis could not be reached (refused, timed out, unknown host).</summary>
    public const int Unreachable = 3;

    /// <summary>Redis refused the login (wrong user or password, or a password is required).</summary>
    public const int AuthFailed = 4;

    /// <summary>What the command names does not exist: an unknown queue, message, dead letter or task.</summary>
    public const int NotFound = 5;

    /// <summary>A confirmation was missing or did not match (e.g. <c>terminate</c> without <c>--confirm</c>).</summary>
    public const int NotConfirmed = 6;

    /// <summary>Stopped by Ctrl-C before the command finished (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
