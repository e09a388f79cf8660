using System.CommandLine;
using System.Diagnostics;
using Millrace.Cli.Hosting;
using Millrace.Redis;

namespace Millrace.Cli.Commands;

/// <summary>
/// <c>millrace smoke</c>: publishes one stream entry through the client, reads it back through a
/// consumer group, acknowledges it and cleans up. Proves the whole path to Redis works.
/// </summary>
internal static class SmokeCommand
{
    public static Command Create()
    {
        var command = new Command("smoke", "Publish one entry to a stream, read it back through a consumer group, acknowledge it.");
        command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        await using var host = CliHost.Create(parse);
        var options = host.Redis.Options;
        {
            var redis = host.Redis;
            var stream = $"{host.Options.KeyPrefix}:smoke:{Guid.NewGuid():N}";
            var clock = Stopwatch.StartNew();
            await redis.XGroupCreateAsync(stream, "smoke", "$", cancellationToken: cancellationToken).ConfigureAwait(false);
            var id = await redis.XAddAsync(stream, [new StreamField("task_id", Guid.NewGuid().ToString()), new StreamField("payload", "default-task"), new StreamField("created_at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture))], cancellationToken: cancellationToken).ConfigureAwait(false);
            var read = await redis.XReadGroupAsync(stream, "smoke", "smoke-1", count: 1, block: TimeSpan.FromSeconds(2), cancellationToken: cancellationToken).ConfigureAwait(false);
            var acked = read.Count == 1 ? await redis.XAckAsync(stream, "smoke", [read[0].Id], cancellationToken).ConfigureAwait(false) : 0;
            await redis.DelAsync([stream], cancellationToken).ConfigureAwait(false);

            if (read.Count != 1 || read[0].Id != id || acked != 1)
            {
                await Console.Error.WriteLineAsync($"millrace: smoke test failed: published {id}, read back {read.Count} entries, acknowledged {acked}.").ConfigureAwait(false);
                return ExitCodes.Failed;
            }

            Console.WriteLine($"smoke ok: published {id} to Redis at {options}, read it back through a consumer group and acknowledged it in {clock.Elapsed.TotalMilliseconds:0.0} ms (payload '{read[0].GetString("payload")}').");
            return ExitCodes.Ok;
        }
    }
}
