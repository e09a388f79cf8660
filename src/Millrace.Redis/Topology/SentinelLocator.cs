using System.Globalization;
using Millrace.Redis.Connections;

namespace Millrace.Redis.Topology;

/// <summary>
/// Asks the Sentinels where the primary of the master name is. Called on every (re)connect, so when
/// a failover moves the primary, the next connection goes to the new one. Sentinel itself closes
/// the clients of a demoted primary, and a READONLY reply drops the connection too, so a failover
/// shows up as a dropped connection followed by a reconnect here.
/// </summary>
internal sealed class SentinelLocator(RedisOptions options)
{
    private readonly List<RedisEndpoint> _sentinels = [.. options.Endpoints];
    private readonly Lock _order = new();

    public async Task<RedisEndpoint> LocatePrimaryAsync(CancellationToken cancellationToken)
    {
        RedisEndpoint[] sentinels;
        lock (_order)
        {
            sentinels = [.. _sentinels];
        }

        var errors = new List<string>();
        foreach (var sentinel in sentinels)
        {
            try
            {
                var connection = await RedisConnection.ConnectAsync(sentinel, options, ConnectionRole.Sentinel, cancellationToken).ConfigureAwait(false);
                await using var closing = connection.ConfigureAwait(false);
                var reply = await connection.SendAsync(new RedisCommand("SENTINEL", ["get-master-addr-by-name", options.MasterName!]), cancellationToken).ConfigureAwait(false);
                if (reply.IsNull || reply.Count < 2)
                {
                    errors.Add($"{sentinel}: does not know master '{options.MasterName}'");
                    continue;
                }

                PreferFirst(sentinel);
                return new RedisEndpoint(reply[0].AsString()!, int.Parse(reply[1].AsString()!, CultureInfo.InvariantCulture));
            }
            catch (RedisException e)
            {
                errors.Add($"{sentinel}: {e.Message}");
            }
        }

        throw new RedisConnectionException($"No Sentinel could name the primary of '{options.MasterName}': {string.Join("; ", errors)}");
    }

    /// <summary>During a failover a Sentinel may still name a demoted server; refuse anything but a primary.</summary>
    public static async Task VerifyPrimaryAsync(RedisConnection connection, CancellationToken cancellationToken)
    {
        var role = await connection.SendAsync(new RedisCommand("ROLE", []), cancellationToken).ConfigureAwait(false);
        var name = role.Count > 0 ? role[0].AsString() : null;
        if (name != "master")
        {
            throw new RedisConnectionException($"Sentinel named {connection.Endpoint} as primary but it reports role '{name}'; a failover is probably in progress.");
        }
    }

    private int _next;

    /// <summary>The Sentinels in turn, for the failover watch's subscription.</summary>
    public Task<RedisEndpoint> NextSentinelAsync(CancellationToken cancellationToken)
    {
        lock (_order)
        {
            return Task.FromResult(_sentinels[_next++ % _sentinels.Count]);
        }
    }

    private void PreferFirst(RedisEndpoint sentinel)
    {
        lock (_order)
        {
            if (_sentinels[0] != sentinel && _sentinels.Remove(sentinel))
            {
                _sentinels.Insert(0, sentinel);
            }
        }
    }
}
