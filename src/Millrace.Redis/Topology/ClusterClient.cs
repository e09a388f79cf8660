using System.Collections.Concurrent;
using Millrace.Redis.Connections;

namespace Millrace.Redis.Topology;

/// <summary>
/// A client for Redis Cluster: a slot map from <c>CLUSTER SLOTS</c>, one <see cref="RedisNode"/> per
/// primary, commands routed by their key's slot, MOVED followed (and the map corrected), ASK answered
/// with ASKING on the target. A connection failure refreshes the map, so a promoted replica is found.
/// </summary>
internal sealed partial class ClusterClient : IRedisClient
{
    private const int MaxRedirects = 5;

    private readonly ConcurrentDictionary<RedisEndpoint, RedisNode> _nodes = new();
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private readonly RedisSubscriber _subscriber;
    private RedisNode?[] _slots = new RedisNode?[HashSlot.Count];
    private long _refreshedAt = long.MinValue;

    public ClusterClient(RedisOptions options)
    {
        Options = options;
        _subscriber = new RedisSubscriber(options, LocateAnyAsync);
    }

    public RedisOptions Options { get; }

    public async Task<RedisReply> ExecuteAsync(RedisCommand command, CancellationToken cancellationToken = default)
    {
        var node = await NodeForAsync(command, cancellationToken).ConfigureAwait(false);
        var asking = false;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var connection = await node.GetConnectionAsync(cancellationToken).ConfigureAwait(false);
                if (!asking)
                {
                    return await connection.SendAsync(command, cancellationToken).ConfigureAwait(false);
                }

                // ASK: the slot is migrating; this one command goes to the target, prefixed by ASKING on the same connection.
                var replies = await connection.SendBatchAsync([new RedisCommand("ASKING", []), command], cancellationToken).ConfigureAwait(false);
                return replies[1].ThrowIfError(command.ToString());
            }
            catch (RedisServerException e) when (attempt < MaxRedirects && ClusterRedirect.TryParse(e.ServerMessage, out var redirect))
            {
                node = NodeAt(redirect.Endpoint);
                asking = !redirect.IsMoved;
                if (redirect.IsMoved)
                {
                    _slots[redirect.Slot] = node;
                }
            }
            catch (RedisServerException e) when (ScriptReload.IsMissingScript(e, command))
            {
                command = command.Script!.EvalFrom(command);
            }
            catch (RedisServerException e) when (attempt < MaxRedirects && e.ErrorCode is "TRYAGAIN" or "CLUSTERDOWN")
            {
                await Task.Delay(50 * (attempt + 1), cancellationToken).ConfigureAwait(false);
                await RefreshAsync(force: true, cancellationToken).ConfigureAwait(false);
                node = await NodeForAsync(command, cancellationToken).ConfigureAwait(false);
            }
            catch (RedisConnectionException)
            {
                // The node may have failed over: learn the new layout for the next call, but do not
                // resend here (the command may have run); the caller decides.
                await RefreshQuietlyAsync(cancellationToken).ConfigureAwait(false);
                throw;
            }
        }
    }

    public async Task<RedisReply[]> ExecuteBatchAsync(IReadOnlyList<RedisCommand> commands, CancellationToken cancellationToken = default)
    {
        var replies = new RedisReply[commands.Count];
        var groups = new Dictionary<RedisNode, List<int>>();
        for (var i = 0; i < commands.Count; i++)
        {
            var node = await NodeForAsync(commands[i], cancellationToken).ConfigureAwait(false);
            if (!groups.TryGetValue(node, out var indexes))
            {
                groups[node] = indexes = [];
            }

            indexes.Add(i);
        }

        await Task.WhenAll(groups.Select(async group =>
        {
            var connection = await group.Key.GetConnectionAsync(cancellationToken).ConfigureAwait(false);
            var part = await ScriptReload.SendBatchAsync(connection, group.Value.Select(i => commands[i]).ToArray(), cancellationToken).ConfigureAwait(false);
            for (var j = 0; j < part.Length; j++)
            {
                replies[group.Value[j]] = part[j];
            }
        })).ConfigureAwait(false);

        // Commands redirected mid-batch (a slot moved) or missing their script are sent again one by one.
        for (var i = 0; i < replies.Length; i++)
        {
            if (replies[i].IsError && (IsRedirect(replies[i]) || ScriptReload.IsMissingScript(replies[i], commands[i])))
            {
                replies[i] = await ReplyOrErrorAsync(commands[i], cancellationToken).ConfigureAwait(false);
            }
        }

        return replies;
    }

    public async Task<RedisReply> ExecuteBlockingAsync(RedisCommand command, TimeSpan block, CancellationToken cancellationToken = default)
    {
        var node = await NodeForAsync(command, cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await node.Blocking.ExecuteAsync(command, block, cancellationToken).ConfigureAwait(false);
            }
            catch (RedisServerException e) when (attempt < MaxRedirects && ClusterRedirect.TryParse(e.ServerMessage, out var redirect) && redirect.IsMoved)
            {
                node = NodeAt(redirect.Endpoint);
                _slots[redirect.Slot] = node;
            }
        }
    }

    public Task<RedisSubscription> SubscribeAsync(string channel, CancellationToken cancellationToken = default) =>
        _subscriber.SubscribeAsync(channel, cancellationToken);

    /// <summary>The primary that serves <paramref name="slot"/> now (tests and diagnostics).</summary>
    internal async Task<RedisEndpoint> EndpointOfSlotAsync(int slot, CancellationToken cancellationToken)
    {
        await EnsureMapAsync(cancellationToken).ConfigureAwait(false);
        var node = _slots[slot] ?? throw new RedisConnectionException($"No Cluster node serves slot {slot}.");
        return await node.LocateAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _subscriber.DisposeAsync().ConfigureAwait(false);
        foreach (var node in _nodes.Values)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }

        _refreshGate.Dispose();
    }

    private async Task<RedisReply> ReplyOrErrorAsync(RedisCommand command, CancellationToken cancellationToken)
    {
        try
        {
            return await ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException e)
        {
            return RedisReply.Error(System.Text.Encoding.UTF8.GetBytes(e.ServerMessage));
        }
    }

    private static bool IsRedirect(RedisReply reply) =>
        reply.AsString() is { } text && (text.StartsWith("MOVED ", StringComparison.Ordinal) || text.StartsWith("ASK ", StringComparison.Ordinal));

    private RedisNode NodeAt(RedisEndpoint endpoint) =>
        _nodes.GetOrAdd(endpoint, e => new RedisNode(e.ToString(), Options, _ => Task.FromResult(e)));

    private async ValueTask<RedisNode> NodeForAsync(RedisCommand command, CancellationToken cancellationToken)
    {
        if (command.Key is { } key)
        {
            var slot = HashSlot.Of(key.ToWireBytes());
            if (_slots[slot] is { } known)
            {
                return known;
            }

            await EnsureMapAsync(cancellationToken).ConfigureAwait(false);
            return _slots[slot] ?? throw new RedisConnectionException($"No Cluster node serves slot {slot} (key of {command}); is the cluster complete?");
        }

        // A command without a key can go to any primary.
        await EnsureMapAsync(cancellationToken).ConfigureAwait(false);
        return _slots.FirstOrDefault(n => n is not null) ?? throw new RedisConnectionException("The Cluster slot map is empty.");
    }

    private async Task<RedisEndpoint> LocateAnyAsync(CancellationToken cancellationToken)
    {
        var node = await NodeForAsync(new RedisCommand("PING", []), cancellationToken).ConfigureAwait(false);
        return await node.LocateAsync(cancellationToken).ConfigureAwait(false);
    }
}
