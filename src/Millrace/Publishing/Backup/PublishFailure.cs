using Millrace.Redis;

namespace Millrace;

/// <summary>How a failed publish relates to Redis: not sent, maybe sent, or not a Redis outage at all.</summary>
internal enum PublishFailureKind
{
    /// <summary>Not an outage (bad input, a Redis error reply about the data, cancellation): the caller gets the error.</summary>
    NotAnOutage,

    /// <summary>Redis could not be reached and the command was never written: it certainly did not run.</summary>
    NotSent,

    /// <summary>The command may have reached Redis before the failure (a timeout, a connection lost with the reply outstanding).</summary>
    MaybeSent,
}

/// <summary>
/// Sorts the Millrace Redis client's errors for the backup producer. What the client throws when
/// Redis is down (checked against a stopped redis-server in PublishFailureTests):
/// <list type="bullet">
/// <item>connection refused / connect or handshake timeout: <see cref="RedisConnectionException"/>
/// "Could not connect to Redis at ..." (inner: the socket error) - the command was never written;</item>
/// <item>further calls during the reconnect backoff: <see cref="RedisConnectionException"/> "Redis ... is
/// unreachable (...); next attempt in N ms" - never written;</item>
/// <item>the connection broke while the command was queued on it or waiting for its reply:
/// <see cref="RedisConnectionException"/> "... failed: ... It may or may not have run on the server."
/// (inner: why the connection failed) - maybe sent;</item>
/// <item>no reply within the command timeout: <see cref="RedisTimeoutException"/> - maybe sent (it may
/// still run later, e.g. after a CLIENT PAUSE ends);</item>
/// <item>a reply like LOADING, READONLY, MASTERDOWN, CLUSTERDOWN or TRYAGAIN: Redis refused the
/// command, so a single message did not run; in a batch the others may have.</item>
/// </list>
/// The client marks "maybe" only in its message text, so that is what is read here; anything not
/// recognised as "never written" counts as "maybe sent" (the safe side: it is still journaled by
/// default, and the docs say it may then be delivered twice).
/// </summary>
internal static class PublishFailure
{
    private static readonly string[] Unavailable = ["LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"];

    public static PublishFailureKind Classify(Exception error, int messages) => error switch
    {
        RedisAuthenticationException => PublishFailureKind.NotAnOutage,   // a configuration error: say it, do not hide it in the journal
        RedisTimeoutException => PublishFailureKind.MaybeSent,
        RedisProtocolException => PublishFailureKind.MaybeSent,
        RedisConnectionException e when IsConnectFailure(e.Message) => PublishFailureKind.NotSent,
        RedisConnectionException e when e.Message.Contains("may or may not have run", StringComparison.Ordinal) => PublishFailureKind.MaybeSent,
        RedisConnectionException => PublishFailureKind.NotSent,
        RedisServerException e when Unavailable.Contains(e.ErrorCode, StringComparer.Ordinal) =>
            messages == 1 ? PublishFailureKind.NotSent : PublishFailureKind.MaybeSent,
        _ => PublishFailureKind.NotAnOutage,
    };

    /// <summary>Failures of the connect phase (including a handshake that timed out): no publish command had been written.</summary>
    private static bool IsConnectFailure(string message) =>
        message.StartsWith("Could not connect to Redis", StringComparison.Ordinal)
        || message.StartsWith("TLS handshake with Redis", StringComparison.Ordinal)
        || (message.Contains(" is unreachable (", StringComparison.Ordinal) && message.Contains("next attempt in", StringComparison.Ordinal));
}
