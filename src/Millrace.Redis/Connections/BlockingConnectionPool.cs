using System.Collections.Concurrent;

namespace Millrace.Redis.Connections;

/// <summary>
/// Dedicated connections lent to one blocking command at a time (<c>XREADGROUP ... BLOCK</c>), so a
/// blocked read never sits in front of other callers' commands on the multiplexed connection.
/// </summary>
internal sealed class BlockingConnectionPool(RedisNode node, RedisOptions options) : IAsyncDisposable
{
    private readonly ConcurrentBag<RedisConnection> _idle = [];
    private readonly ConcurrentDictionary<RedisConnection, bool> _open = new();
    private readonly SemaphoreSlim _slots = new(options.BlockingConnections, options.BlockingConnections);

    /// <summary>Runs <paramref name="command"/>, which may block on the server for up to <paramref name="block"/>.</summary>
    public async Task<RedisReply> ExecuteAsync(RedisCommand command, TimeSpan block, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        RedisConnection? connection = null;
        try
        {
            connection = TakeIdle() ?? await OpenAsync(cancellationToken).ConfigureAwait(false);
            var reply = await connection.SendAsync(command, (long)block.TotalMilliseconds, cancellationToken).ConfigureAwait(false);
            _idle.Add(connection);
            connection = null;
            return reply;
        }
        catch (RedisServerException) when (connection is { IsHealthy: true })
        {
            // An error reply (NOGROUP, WRONGTYPE...) leaves the connection fine for the next command.
            _idle.Add(connection);
            connection = null;
            throw;
        }
        finally
        {
            // Cancelled or timed out while blocked: the command is still parked on the server and could
            // still deliver entries on this connection. Closing it is the only way to be sure nothing
            // surfaces later; anything Redis had already handed over stays pending for reclaim.
            if (connection is not null)
            {
                _open.TryRemove(connection, out _);
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            _slots.Release();
        }
    }

    /// <summary>Closes every connection, idle or busy (the server behind them is no longer the primary).</summary>
    public void AbortAll(Exception reason)
    {
        foreach (var connection in _open.Keys)
        {
            connection.Abort(reason);
        }
    }

    private async Task<RedisConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var endpoint = await node.LocateAsync(cancellationToken).ConfigureAwait(false);
        var connection = await RedisConnection.ConnectAsync(endpoint, options, ConnectionRole.Blocking, cancellationToken).ConfigureAwait(false);
        _open[connection] = true;
        return connection;
    }

    private RedisConnection? TakeIdle()
    {
        while (_idle.TryTake(out var connection))
        {
            if (connection.IsHealthy)
            {
                return connection;
            }

            _open.TryRemove(connection, out _);
            connection.Abort(new RedisConnectionException("stale pooled connection"));
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var connection))
        {
            _open.TryRemove(connection, out _);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
