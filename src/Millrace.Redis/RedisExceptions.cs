namespace Millrace.Redis;

/// <summary>Base of every error the Millrace Redis client raises.</summary>
public class RedisException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RedisException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>Redis answered a command with an error reply (e.g. <c>WRONGTYPE</c>, <c>NOGROUP</c>).</summary>
public sealed class RedisServerException : RedisException
{
    /// <summary>Creates the exception from the server's error text.</summary>
    public RedisServerException(string error, string? command = null)
        : base(command is null ? $"Redis replied: {error}" : $"Redis replied to {command}: {error}")
    {
        ServerMessage = error;
        var space = error.IndexOf(' ', StringComparison.Ordinal);
        ErrorCode = space > 0 ? error[..space] : error;
    }

    /// <summary>The error's first word: <c>ERR</c>, <c>NOGROUP</c>, <c>MOVED</c>, <c>NOSCRIPT</c> and so on.</summary>
    public string ErrorCode { get; }

    /// <summary>The whole error text as Redis sent it.</summary>
    public string ServerMessage { get; }
}

/// <summary>
/// No usable connection: connecting failed, or the connection was lost. A command that was in
/// flight when its connection dropped fails with this; it may or may not have run on the server.
/// </summary>
public class RedisConnectionException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisConnectionException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>Redis refused the credentials (wrong user or password, or a password is required).</summary>
public sealed class RedisAuthenticationException : RedisConnectionException
{
    /// <summary>Creates the exception.</summary>
    public RedisAuthenticationException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>The peer sent bytes that are not a valid RESP reply; the connection is closed.</summary>
public sealed class RedisProtocolException : RedisConnectionException
{
    /// <summary>Creates the exception.</summary>
    public RedisProtocolException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>No reply arrived within the command timeout.</summary>
public sealed class RedisTimeoutException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisTimeoutException(string message) : base(message)
    {
    }
}

/// <summary>The client's settings are invalid; the message names the setting and what is allowed.</summary>
public sealed class RedisConfigurationException : RedisException
{
    /// <summary>Creates the exception.</summary>
    public RedisConfigurationException(string message) : base(message)
    {
    }
}
