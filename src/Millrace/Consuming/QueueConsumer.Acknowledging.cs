using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace;

public sealed partial class QueueConsumer
{
    /// <summary>
    /// Sends acknowledgements: everything that finished while the previous XACK was on its way goes
    /// in one XACK per partition. An ack that fails (Redis unreachable) is retried; one that is lost
    /// in a crash means the message is delivered once more.
    /// </summary>
    private async Task AcknowledgeLoopAsync()
    {
        var reader = _acks.Reader;
        var byPartition = new List<string>[_running.Length];   // per lane
        for (var p = 0; p < byPartition.Length; p++)
        {
            byPartition[p] = [];
        }

        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out var ack))
            {
                byPartition[ack.Lane].Add(ack.Id);
            }

            var commands = new List<RedisCommand>(byPartition.Length);
            var partitions = new List<int>(byPartition.Length);
            for (var p = 0; p < byPartition.Length; p++)
            {
                if (byPartition[p].Count > 0)
                {
                    commands.Add(StreamCommands.XAck(_keys.Stream(p / _keys.Levels, p % _keys.Levels), Options.Group, byPartition[p].ToArray()));
                    partitions.Add(p);
                }
            }

            if (await SendAcksAsync(commands).ConfigureAwait(false))
            {
                foreach (var p in partitions)
                {
                    byPartition[p].Clear();
                }
            }
        }
    }

    /// <summary>True when the acks were delivered (or the group is gone and they no longer matter).</summary>
    private async Task<bool> SendAcksAsync(List<RedisCommand> commands)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                var replies = await _runtime.Redis.ExecuteBatchAsync(commands, CancellationToken.None).ConfigureAwait(false);
                foreach (var reply in replies)
                {
                    if (reply.IsError && reply.AsString()!.StartsWith("NOGROUP", StringComparison.Ordinal))
                    {
                        StopBecauseDeleted("NOGROUP on acknowledge");
                    }
                }

                return true;
            }
            catch (RedisException e) when (failures < 60)
            {
                ConsumerLog.AckFailed(_logger, e, Name, failures);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 50 * failures)), _runtime.Time, CancellationToken.None).ConfigureAwait(false);
            }
            catch (RedisException e)
            {
                // A minute without Redis: give up on these acks. The messages were handled and will be delivered again.
                ConsumerLog.AckGaveUp(_logger, e, Name, commands.Count);
                return true;
            }
        }
    }
}
