namespace Millrace.Redis.Connections;

/// <summary>What a connection is used for.</summary>
internal enum ConnectionRole
{
    /// <summary>The shared multiplexed connection: many callers, pipelined, never a blocking command.</summary>
    Interactive,
    /// <summary>A dedicated connection lent to one blocking command at a time.</summary>
    Blocking,
    /// <summary>A connection in pub/sub mode: everything after the handshake is a push.</summary>
    Subscriber,
    /// <summary>A connection to a Sentinel, for discovery only.</summary>
    Sentinel,
}
