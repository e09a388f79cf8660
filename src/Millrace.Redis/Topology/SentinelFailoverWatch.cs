using System.Text;
using Millrace.Redis.Connections;

namespace Millrace.Redis.Topology;

/// <summary>
/// Listens on a Sentinel for <c>+switch-master</c>. Sentinel promotes the replica first and demotes a
/// live old primary only seconds later; in between the old primary still accepts writes that are
/// then thrown away. Dropping every connection the moment the switch is announced shrinks that
/// window to the announcement's own delay. Without a reachable Sentinel the client still follows a
/// failover when its connection drops or meets READONLY, only later.
/// </summary>
internal sealed class SentinelFailoverWatch : IAsyncDisposable
{
    private const string SwitchChannel = "+switch-master";

    private readonly RedisOptions _options;
    private readonly RedisSubscriber _sentinels;
    private readonly Action<string> _onSwitch;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _watching;

    public SentinelFailoverWatch(RedisOptions options, SentinelLocator locator, Action<string> onSwitch)
    {
        _options = options;
        _onSwitch = onSwitch;
        _sentinels = new RedisSubscriber(options, locator.NextSentinelAsync, ConnectionRole.Sentinel);
        _watching = Task.Run(() => WatchAsync(_stopping.Token));
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        RedisSubscription? subscription = null;
        for (var failures = 0; subscription is null; failures++)
        {
            try
            {
                subscription = await _sentinels.SubscribeAsync(SwitchChannel, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                // No Sentinel answers now: try the next one, backing off up to the reconnect cap.
                var delay = Math.Min(_options.MaxReconnectBackoff.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(failures, 10)));
                await Task.Delay(TimeSpan.FromMilliseconds(delay), cancellationToken).ConfigureAwait(false);
            }
        }

        await foreach (var message in subscription.Messages.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            // "<master name> <old ip> <old port> <new ip> <new port>"
            var parts = Encoding.UTF8.GetString(message.Payload).Split(' ');
            if (parts.Length >= 5 && parts[0] == _options.MasterName)
            {
                _onSwitch($"{parts[1]}:{parts[2]} -> {parts[3]}:{parts[4]}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _watching.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }

        await _sentinels.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
