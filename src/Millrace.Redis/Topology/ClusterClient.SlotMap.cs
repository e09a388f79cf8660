using Millrace.Redis.Connections;

namespace Millrace.Redis.Topology;

internal sealed partial class ClusterClient
{
    /// <summary>Refreshes are rate-limited: a burst of failures asks for the layout once.</summary>
    private static readonly TimeSpan MinRefreshInterval = TimeSpan.FromMilliseconds(250);

    private Task EnsureMapAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _refreshedAt) == long.MinValue ? RefreshAsync(force: false, cancellationToken) : Task.CompletedTask;

    private async Task RefreshQuietlyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RefreshAsync(force: true, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // The original failure is what the caller gets; the map is refreshed again on the next error.
        }
    }

    private async Task RefreshAsync(bool force, CancellationToken cancellationToken)
    {
        var seen = Volatile.Read(ref _refreshedAt);
        await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var last = Volatile.Read(ref _refreshedAt);
            if (last != seen || (force && last != long.MinValue && Environment.TickCount64 - last < MinRefreshInterval.TotalMilliseconds))
            {
                return;   // someone else refreshed meanwhile, or just did
            }

            var errors = new List<string>();
            foreach (var endpoint in _nodes.Keys.Concat(Options.Endpoints).Distinct())
            {
                try
                {
                    var node = NodeAt(endpoint);
                    var connection = await node.GetConnectionAsync(cancellationToken).ConfigureAwait(false);
                    var reply = await connection.SendAsync(new RedisCommand("CLUSTER", ["SLOTS"]), cancellationToken).ConfigureAwait(false);
                    Volatile.Write(ref _slots, BuildSlots(reply, endpoint));
                    Volatile.Write(ref _refreshedAt, Environment.TickCount64);
                    return;
                }
                catch (RedisException e)
                {
                    errors.Add($"{endpoint}: {e.Message}");
                }
            }

            throw new RedisConnectionException($"No Cluster node answered CLUSTER SLOTS: {string.Join("; ", errors)}");
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    /// <summary>Each entry of CLUSTER SLOTS is [first slot, last slot, [primary host, port, id], replicas...].</summary>
    private RedisNode?[] BuildSlots(RedisReply reply, RedisEndpoint askedAt)
    {
        var slots = new RedisNode?[HashSlot.Count];
        foreach (var range in reply.Items)
        {
            var first = (int)range[0].AsInt64();
            var last = (int)range[1].AsInt64();
            var primary = range[2];
            var host = primary[0].AsString();
            // An empty host (or "?") means "the address you reached me on".
            var endpoint = new RedisEndpoint(string.IsNullOrEmpty(host) || host == "?" ? askedAt.Host : host, (int)primary[1].AsInt64());
            var node = NodeAt(endpoint);
            for (var slot = first; slot <= last && slot < HashSlot.Count; slot++)
            {
                slots[slot] = node;
            }
        }

        return slots;
    }
}
