namespace Millrace.Redis.Connections;

/// <summary>
/// One server as the client sees it: the shared multiplexed connection to it, reopened on demand
/// with backoff after a failure, and a pool of dedicated connections for blocking commands. Where
/// the server is comes from a locator, so a Sentinel-managed primary is looked up again on every
/// reconnect and a failover is followed.
/// </summary>
internal sealed class RedisNode : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task<RedisEndpoint>> _locate;
    private readonly Func<RedisConnection, CancellationToken, Task>? _verify;
    private readonly RedisOptions _options;
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private RedisConnection? _current;
    private int _failures;
    private long _nextAttemptAt;
    private Exception? _lastError;

    public RedisNode(
        string name,
        RedisOptions options,
        Func<CancellationToken, Task<RedisEndpoint>> locate,
        Func<RedisConnection, CancellationToken, Task>? verify = null)
    {
        Name = name;
        _options = options;
        _locate = locate;
        _verify = verify;
        Blocking = new BlockingConnectionPool(this, options);
    }

    /// <summary>How this node is described in errors ("127.0.0.1:6379", "primary of mymaster").</summary>
    public string Name { get; }

    /// <summary>Dedicated connections for blocking commands.</summary>
    public BlockingConnectionPool Blocking { get; }

    /// <summary>The connection in use when it is healthy; null when the next call must (re)connect.</summary>
    public RedisConnection? Current => Volatile.Read(ref _current) is { IsHealthy: true } c ? c : null;

    public Task<RedisEndpoint> LocateAsync(CancellationToken cancellationToken) => _locate(cancellationToken);

    public ValueTask<RedisConnection> GetConnectionAsync(CancellationToken cancellationToken) =>
        Current is { } current ? ValueTask.FromResult(current) : new ValueTask<RedisConnection>(ConnectAsync(cancellationToken));

    /// <summary>Drops every connection to this node (its server stopped being the one to talk to).</summary>
    public void Reset(Exception reason)
    {
        Volatile.Read(ref _current)?.Abort(reason);
        Blocking.AbortAll(reason);
    }

    private async Task<RedisConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        // One attempt at a time: callers that arrive meanwhile take its result (or its error).
        await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Current is { } current)
            {
                return current;
            }

            var now = Environment.TickCount64;
            if (_lastError is not null && now < _nextAttemptAt)
            {
                throw new RedisConnectionException(
                    $"Redis {Name} is unreachable ({_lastError.Message.TrimEnd('.')}); next attempt in {_nextAttemptAt - now} ms.", _lastError);
            }

            RedisConnection? connection = null;
            try
            {
                var endpoint = await _locate(cancellationToken).ConfigureAwait(false);
                connection = await RedisConnection.ConnectAsync(endpoint, _options, ConnectionRole.Interactive, cancellationToken).ConfigureAwait(false);
                if (_verify is not null)
                {
                    await _verify(connection, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (RedisException e)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }

                _failures++;
                _lastError = e;
                _nextAttemptAt = Environment.TickCount64 + Backoff(_failures);
                throw;
            }

            var previous = _current;
            _failures = 0;
            _lastError = null;
            Volatile.Write(ref _current, connection);
            if (previous is not null)
            {
                await previous.DisposeAsync().ConfigureAwait(false);
            }

            return connection;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    /// <summary>50 ms, doubling per failed attempt up to the configured cap, with ±20% jitter.</summary>
    private long Backoff(int failures)
    {
        var cap = _options.MaxReconnectBackoff.TotalMilliseconds;
        var delay = Math.Min(cap, 50 * Math.Pow(2, Math.Min(failures - 1, 16)));
        return (long)(delay * (0.8 + (Random.Shared.NextDouble() * 0.4)));
    }

    public async ValueTask DisposeAsync()
    {
        await Blocking.DisposeAsync().ConfigureAwait(false);
        if (_current is { } current)
        {
            await current.DisposeAsync().ConfigureAwait(false);
        }

        _connectGate.Dispose();
    }
}
