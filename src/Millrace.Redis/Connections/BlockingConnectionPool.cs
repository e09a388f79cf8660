using System.Collections.Concurrent;

namespace Millrace.Redis.Connections;

/// <summary>
/// Dedicated connections lent to one blocking command at a time (<c>XREADGROUP ... BLOCK</c>), so a
/// blocked read never sits in front of other callers' commands on the multiplexed connection.
/// </summary>
internal sealed class BlockingConnectionPool(RedisNode node, RedisOptions options) : IAsyncDisposable
{
    private readonly ConcurrentBag<RedisConnection> _idle = [];
    private readonly SemaphoreSlim _slots = new(options.BlockingConnections, options.BlockingConnections);

    /// <summary>Runs <paramref name="command"/>, which may block on the server for up to <paramref name="block"/>.</summary>
    public async Task<RedisReply> ExecuteAsync(RedisCommand command, TimeSpan block, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        RedisConnection? connection = null;
        try
        {
            connection = TakeIdle() ?? await RedisConnection.ConnectAsync(
                await node.LocateAsync(cancellationToken).ConfigureAwait(false), options, ConnectionRole.Blocking, cancellationToken).ConfigureAwait(false);
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
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            _slots.Release();
        }
    }

    private RedisConnection? TakeIdle()
    {
        while (_idle.TryTake(out var connection))
        {
            if (connection.IsHealthy)
            {
                return connection;
            }

            connection.Abort(new RedisConnectionException("stale pooled connection"));
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var connection))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
