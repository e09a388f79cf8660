using Millrace.Redis.Connections;

namespace Millrace.Redis.Topology;

/// <summary>A client for one server: a fixed address, or the primary that Sentinel names.</summary>
internal sealed class StandaloneClient : IRedisClient
{
    private readonly RedisNode _node;
    private readonly RedisSubscriber _subscriber;
    private SentinelFailoverWatch? _failoverWatch;

    private StandaloneClient(RedisOptions options, RedisNode node)
    {
        Options = options;
        _node = node;
        _subscriber = new RedisSubscriber(options, node.LocateAsync);
    }

    public RedisOptions Options { get; }

    public static StandaloneClient ForServer(RedisOptions options)
    {
        var endpoint = options.Endpoints[0];
        return new StandaloneClient(options, new RedisNode(endpoint.ToString(), options, _ => Task.FromResult(endpoint)));
    }

    public static StandaloneClient ForSentinel(RedisOptions options)
    {
        var sentinels = new SentinelLocator(options);
        var node = new RedisNode($"primary of '{options.MasterName}'", options, sentinels.LocatePrimaryAsync, SentinelLocator.VerifyPrimaryAsync);
        var client = new StandaloneClient(options, node);
        client._failoverWatch = new SentinelFailoverWatch(options, sentinels, client.OnPrimarySwitched);
        return client;
    }

    public Task<RedisReply> ExecuteAsync(RedisCommand command, CancellationToken cancellationToken = default)
    {
        // Hot path: a healthy connection and no script to reload means no extra await.
        if (_node.Current is { } connection && command.Script is null)
        {
            return connection.SendAsync(command, cancellationToken);
        }

        return ExecuteSlowAsync(command, cancellationToken);
    }

    public async Task<RedisReply[]> ExecuteBatchAsync(IReadOnlyList<RedisCommand> commands, CancellationToken cancellationToken = default)
    {
        var connection = await _node.GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        var replies = await ScriptReload.SendBatchAsync(connection, commands, cancellationToken).ConfigureAwait(false);
        return await ScriptReload.ResendMissingAsync(this, commands, replies, cancellationToken).ConfigureAwait(false);
    }

    public Task<RedisReply> ExecuteBlockingAsync(RedisCommand command, TimeSpan block, CancellationToken cancellationToken = default) =>
        _node.Blocking.ExecuteAsync(command, block, cancellationToken);

    public Task<RedisSubscription> SubscribeAsync(string channel, CancellationToken cancellationToken = default) =>
        _subscriber.SubscribeAsync(channel, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_failoverWatch is not null)
        {
            await _failoverWatch.DisposeAsync().ConfigureAwait(false);
        }

        await _subscriber.DisposeAsync().ConfigureAwait(false);
        await _node.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Sentinel announced a new primary: everything still talking to the old one is closed.</summary>
    private void OnPrimarySwitched(string change)
    {
        var reason = new RedisConnectionException($"Sentinel moved the primary of '{Options.MasterName}' ({change}); reconnecting to the new primary.");
        _node.Reset(reason);
        _subscriber.Reset(reason);
    }

    private async Task<RedisReply> ExecuteSlowAsync(RedisCommand command, CancellationToken cancellationToken)
    {
        var connection = await _node.GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await connection.SendAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (ScriptReload.IsMissingScript(e, command))
        {
            return await connection.SendAsync(command.Script!.EvalFrom(command), cancellationToken).ConfigureAwait(false);
        }
    }
}
