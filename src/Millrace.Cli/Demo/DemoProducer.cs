using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace.Cli.Demo;

/// <summary>
/// The demo producer of <c>millrace server --demo</c>: publishes a steady mix of demo messages (mostly
/// <c>echo</c>, some <c>sleep</c> with a short random duration, some <c>fail</c>) so the dashboard has
/// throughput, latency, retries and dead letters to show.
/// </summary>
internal sealed partial class DemoProducer(IMessagePublisher publisher, IReadOnlyList<string> queues, double perSecond, TimeProvider time, ILogger<DemoProducer> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick, time);
        var owed = 0.0;
        long n = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                owed += perSecond * Tick.TotalSeconds;
                var count = (int)owed;
                if (count == 0)
                {
                    continue;
                }

                owed -= count;
                var batch = new OutgoingMessage[count];
                for (var i = 0; i < count; i++)
                {
                    batch[i] = Next(queues[(int)(n % queues.Count)], ++n);
                }

                try
                {
                    await publisher.PublishBatchAsync(batch, stoppingToken).ConfigureAwait(false);
                }
                catch (RedisException e)
                {
                    // Redis is down or failing over: skip this tick's messages (they are demo traffic) and say so.
                    PublishFailed(logger, count, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private static OutgoingMessage Next(string queue, long n)
    {
        // A demo's dice, not a security decision.
#pragma warning disable CA5394
        var roll = Random.Shared.Next(100);
        var (type, payload) = roll switch
        {
            < 60 => ("echo", $"demo message {n}"),
            < 85 => ("sleep", $"{Random.Shared.Next(20, 400)}ms"),
            _ => ("fail", $"demo message {n} (fails now and then)"),
        };
        var priority = Random.Shared.Next(3);
#pragma warning restore CA5394
        return new OutgoingMessage { Queue = queue, Type = type, Payload = System.Text.Encoding.UTF8.GetBytes(payload), Priority = priority };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo producer: {Count} messages not published this tick: {Error}")]
    private static partial void PublishFailed(ILogger logger, int count, string error);
}
