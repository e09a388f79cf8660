namespace Millrace.Redis;

/// <summary>How the client finds its server (the seeds' <c>REDIS_MODE</c>).</summary>
public enum RedisMode
{
    /// <summary>One server at the first address.</summary>
    Standalone,
    /// <summary>The addresses are Sentinels; the primary of <see cref="RedisOptions.MasterName"/> is asked from them.</summary>
    Sentinel,
    /// <summary>The addresses are seeds of a Redis Cluster.</summary>
    Cluster,
}

/// <summary>The protocol version spoken on each connection.</summary>
public enum RedisProtocol
{
    /// <summary>RESP2: works with every server and proxy.</summary>
    Resp2 = 2,
    /// <summary>RESP3 through <c>HELLO 3</c> (Redis 6+).</summary>
    Resp3 = 3,
}
