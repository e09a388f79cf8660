using System.Globalization;
using Millrace.Redis;

namespace Millrace;

public sealed partial class QueueConsumer
{
    private const int MaxStackBytes = 8 * 1024;

    /// <summary>
    /// A handler failed: retry it later under its type's policy, or bury it in the dead-letter queue
    /// when the policy says so. If Redis cannot be told, the entry stays pending and runs again
    /// after the visibility timeout (the attempt is then not counted): never lost.
    /// </summary>
    private async Task FailAsync(Delivery delivery, Message message, Exception error)
    {
        var policy = _runtime.Options.RetryFor(message.Type);
        if (error is UndecodablePayloadException)
        {
            await BuryAsync(delivery, message, "undecodable-payload", error).ConfigureAwait(false);
        }
        else if (!policy.IsRetriable(error))
        {
            await BuryAsync(delivery, message, "non-retriable", error).ConfigureAwait(false);
        }
        else if (message.Attempt >= policy.MaxAttempts)
        {
            await BuryAsync(delivery, message, "failed", error).ConfigureAwait(false);
        }
        else
        {
            var now = _runtime.Time.GetUtcNow();
            var fields = FieldCodec.With(delivery.Entry.Fields, EnvelopeFields.Attempt, (message.Attempt + 1).ToString(CultureInfo.InvariantCulture));
            fields = FieldCodec.With(fields, EnvelopeFields.FirstFailedAt, (message.FirstFailedAt ?? now).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
            var due = now + policy.DelayBefore(message.Attempt + 1, Random.Shared);
            if (await ScheduleAgainAsync(delivery, $"{message.Id}:{message.Attempt + 1}", fields, due).ConfigureAwait(false))
            {
                await TrackAsync(_runtime.Tasks.Enabled ? _runtime.Tasks.Retrying(message, error) : null, message).ConfigureAwait(false);
            }

            _runtime.Telemetry.Retried.Add(1, new KeyValuePair<string, object?>("queue", Options.Queue), new KeyValuePair<string, object?>("type", message.Type));
            _runtime.Statistics.Retried(Options.Queue, 1);
        }
    }

    /// <summary>Acknowledges this delivery and puts the message in the delayed set, due at <paramref name="due"/>, in one step.</summary>
    private async Task<bool> ScheduleAgainAsync(Delivery delivery, string member, IReadOnlyList<StreamField> fields, DateTimeOffset due)
    {
        var p = delivery.Partition;
        return await RunFailureScriptAsync(FailureScripts.Retry.Command(
            [StreamOf(delivery), _keys.Delayed(p), _keys.DelayedBodies(p)],
            [Options.Group, delivery.Entry.Id, Name, due.ToUnixTimeMilliseconds(), member, FieldCodec.Encode(fields), _keys.Events]), delivery).ConfigureAwait(false);
    }

    /// <summary>Moves the entry to the dead-letter stream with the record of why, and acknowledges it, in one step.</summary>
    private async Task BuryAsync(Delivery delivery, Message? message, string reason, Exception? error)
    {
        var now = _runtime.Time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var record = new List<StreamField>(delivery.Entry.Fields)
        {
            new(DeadLetterFields.Reason, reason),
            new(DeadLetterFields.ErrorType, error?.GetType().FullName ?? ""),
            new(DeadLetterFields.ErrorMessage, error?.Message ?? ""),
            new(DeadLetterFields.ErrorStack, Cut(error?.ToString() ?? "")),
            new(DeadLetterFields.Attempts, (message?.Attempt ?? 1).ToString(CultureInfo.InvariantCulture)),
            new(DeadLetterFields.FirstFailedAt, message?.FirstFailedAt?.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) ?? now),
            new(DeadLetterFields.LastFailedAt, now),
            new(DeadLetterFields.SourceId, delivery.Entry.Id),
            new(DeadLetterFields.Group, Options.Group),
            new(DeadLetterFields.Consumer, Name),
        };
        var args = new List<RedisArg>(3 + (record.Count * 2)) { Options.Group, delivery.Entry.Id, Name };
        foreach (var field in record)
        {
            args.Add(field.Name);
            args.Add(field.Value);
        }

        var p = delivery.Partition;
        if (await RunFailureScriptAsync(FailureScripts.Bury.Command([StreamOf(delivery), _keys.Dead(p)], args), delivery).ConfigureAwait(false))
        {
            _runtime.Telemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("queue", Options.Queue), new KeyValuePair<string, object?>("reason", reason));
            _runtime.Statistics.DeadLettered(Options.Queue, 1);
            if (message is not null && _runtime.Tasks.Enabled)
            {
                var failedAttempt = reason is "failed" or "non-retriable" or "undecodable-payload";
                await TrackAsync(_runtime.Tasks.DeadLettered(message, reason, error, failedAttempt), message).ConfigureAwait(false);
            }

            ConsumerLog.Buried(_logger, Name, delivery.Entry.Id, Options.Queue, reason, error?.Message ?? reason);
        }
    }

    /// <summary>Parks a stopped message (or one of a paused type) out of the stream until it is resumed.</summary>
    private async Task ParkAsync(Delivery delivery, Message message)
    {
        var p = delivery.Partition;
        if (await RunFailureScriptAsync(FailureScripts.Park.Command([StreamOf(delivery), _keys.Parked(p)],
            [Options.Group, delivery.Entry.Id, Name, message.Id, FieldCodec.Encode(delivery.Entry.Fields)]), delivery).ConfigureAwait(false))
        {
            await TrackAsync(_runtime.Tasks.Enabled ? _runtime.Tasks.Stopped(message) : null, message).ConfigureAwait(false);
        }
    }

    /// <summary>True when the script ran and this consumer still owned the entry; a Redis failure is logged and leaves it pending.</summary>
    private async Task<bool> RunFailureScriptAsync(RedisCommand command, Delivery delivery)
    {
        try
        {
            var reply = await _runtime.Redis.ExecuteAsync(command, CancellationToken.None).ConfigureAwait(false);
            if (reply.Kind == RedisReplyKind.Integer && reply.AsInt64() == 0)
            {
                ConsumerLog.NotOwner(_logger, Name, delivery.Entry.Id, Options.Queue);
                return false;
            }

            return true;
        }
        catch (RedisException e)
        {
            ConsumerLog.FailurePathFailed(_logger, e, Name, delivery.Entry.Id, Options.Queue);
            return false;
        }
    }

    private static string Cut(string text) => text.Length <= MaxStackBytes ? text : text[..MaxStackBytes] + "…";
}
