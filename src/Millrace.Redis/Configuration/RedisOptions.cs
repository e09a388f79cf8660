namespace Millrace.Redis;

/// <summary>
/// Where Redis is and how to talk to it. Build it in code, from a connection string
/// (<see cref="Parse"/>) or from the seeds' environment variables (<see cref="FromEnvironment"/>).
/// </summary>
/// <example>
/// <code>
/// var options = RedisOptions.Parse("127.0.0.1:6379,user=app,password=secret,tls=true");
/// await using var redis = await RedisClient.ConnectAsync(options);
/// </code>
/// </example>
public sealed partial class RedisOptions
{
    /// <summary>Standalone (default), Sentinel or Cluster.</summary>
    public RedisMode Mode { get; set; } = RedisMode.Standalone;

    /// <summary>The server (standalone), the Sentinels, or the Cluster seeds.</summary>
    public IList<RedisEndpoint> Endpoints { get; private set; } = new List<RedisEndpoint>();

    /// <summary>The Sentinel master name (required in Sentinel mode).</summary>
    public string? MasterName { get; set; }

    /// <summary>ACL user name; null means the default user.</summary>
    public string? User { get; set; }

    /// <summary>Password (with <see cref="User"/>, or for the default user).</summary>
    public string? Password { get; set; }

    /// <summary>Password for the Sentinels themselves, when they require one.</summary>
    public string? SentinelPassword { get; set; }

    /// <summary>Database number (standalone and Sentinel only; Cluster has only database 0).</summary>
    public int Database { get; set; }

    /// <summary>Connect with TLS.</summary>
    public bool Tls { get; set; }

    /// <summary>A PEM file of the certificate authority that signed the server's certificate, when it is not a system one.</summary>
    public string? TlsCaFile { get; set; }

    /// <summary>The name to check the server certificate against; defaults to the host being connected.</summary>
    public string? TlsHost { get; set; }

    /// <summary>Name shown in <c>CLIENT LIST</c>.</summary>
    public string? ClientName { get; set; }

    /// <summary>RESP2 (default) or RESP3.</summary>
    public RedisProtocol Protocol { get; set; } = RedisProtocol.Resp2;

    /// <summary>Longest wait for a TCP (and TLS) connection and its handshake.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait for a reply; blocking commands get their block time on top.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most dedicated connections per server for blocking commands (<c>XREADGROUP ... BLOCK</c>).</summary>
    public int BlockingConnections { get; set; } = 64;

    /// <summary>Longest pause between reconnect attempts (backoff doubles up to this).</summary>
    public TimeSpan MaxReconnectBackoff { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Throws <see cref="RedisConfigurationException"/> naming the first invalid setting and what is allowed.</summary>
    public void Validate()
    {
        if (Endpoints.Count == 0)
        {
            throw new RedisConfigurationException("No Redis address is set: give at least one host:port (REDIS_ADDRS or the connection string).");
        }

        if (Mode == RedisMode.Sentinel && string.IsNullOrWhiteSpace(MasterName))
        {
            throw new RedisConfigurationException("Sentinel mode needs the master name: set REDIS_MASTER_NAME (or serviceName= in the connection string).");
        }

        if (Mode == RedisMode.Cluster && Database != 0)
        {
            throw new RedisConfigurationException($"Database is {Database}, but Redis Cluster only has database 0.");
        }

        if (Database is < 0 or > 15_000)
        {
            throw new RedisConfigurationException($"Database is {Database}; it must be 0 or more.");
        }

        if (User is not null && Password is null)
        {
            throw new RedisConfigurationException($"User '{User}' is set without a password; set the password too (REDIS_PASSWORD or password=).");
        }

        if (ConnectTimeout <= TimeSpan.Zero || CommandTimeout <= TimeSpan.Zero)
        {
            throw new RedisConfigurationException($"Timeouts must be positive (connectTimeout={ConnectTimeout}, commandTimeout={CommandTimeout}).");
        }

        if (BlockingConnections < 1)
        {
            throw new RedisConfigurationException($"BlockingConnections is {BlockingConnections}; it must be at least 1.");
        }

        if (TlsCaFile is not null && !File.Exists(TlsCaFile))
        {
            throw new RedisConfigurationException($"TLS CA file '{TlsCaFile}' does not exist.");
        }
    }

    /// <summary>A copy of these options.</summary>
    public RedisOptions Clone()
    {
        var copy = (RedisOptions)MemberwiseClone();
        copy.Endpoints = new List<RedisEndpoint>(Endpoints);
        return copy;
    }
}
