using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Millrace.Server;

/// <summary>Tasks: publish (operator), one task and the task list (viewer), as in seed 002.</summary>
internal static partial class TaskEndpoints
{
    private const string PublishExample = """{"type":"example","payload":{"message":"Hello"},"priority":1}""";

    public static void Map(RouteGroupBuilder api, Func<RouteHandlerBuilder, MillraceRole, RouteHandlerBuilder> mutating)
    {
        mutating(api.MapPost("/tasks", PublishAsync)
            .WithSummary("Publishes a task: type and payload (any JSON; a JSON string is sent as its text), optional queue, priority, headers, tenant, dedup_key, partition_key, delay_seconds or deliver_at, id.")
            .Accepts<PublishTaskRequest>("application/json")
            .Produces<PublishTaskResponse>(StatusCodes.Status201Created), MillraceRole.Operator);
        MapReads(api);
    }

    static partial void MapReads(RouteGroupBuilder api);

    private static async Task<IResult> PublishAsync(HttpContext http, IMessagePublisher publisher, MillraceAdmin admin,
        IOptions<MillraceOptions> millrace, IOptions<MillraceServerOptions> server, CancellationToken ct)
    {
        var maxPayload = millrace.Value.MaxPayloadBytes;
        var (body, error) = await RequestBody.ReadAsync<PublishTaskRequest>(http, (2L * maxPayload) + (64 * 1024), PublishExample).ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        if (string.IsNullOrWhiteSpace(body!.Type))
        {
            return Problems.BadRequest($"type is missing: every task needs a type (it selects the handler), e.g. {PublishExample}. Nothing was published.");
        }

        if (ControlEndpoints.ValidateType(body.Type) is { } badType)
        {
            return badType;
        }

        var queue = body.Queue ?? server.Value.DefaultQueue;
        try
        {
            QueueName.Validate(queue);
        }
        catch (ArgumentException e)
        {
            return Problems.BadRequest(e.Message + " Nothing was published.");
        }

        if (queue != server.Value.DefaultQueue && !millrace.Value.Queues.ContainsKey(queue) && !await admin.QueueExistsAsync(queue, ct).ConfigureAwait(false))
        {
            var known = await admin.QueueNamesAsync(ct).ConfigureAwait(false);
            return Problems.NotFound($"There is no queue '{queue}' (known: {(known.Count == 0 ? "none yet" : string.Join(", ", known))}; the default queue is '{server.Value.DefaultQueue}'). Declare it in Millrace:Queues or start a consumer of it first. Nothing was published.");
        }

        if (body.Priority is < 0 or > 1000)
        {
            return Problems.BadRequest($"priority must be between 0 and 1000 (was {body.Priority}). Nothing was published.");
        }

        if (body.DelaySeconds is { } delay && (delay < 0 || double.IsNaN(delay) || delay > TimeSpan.FromDays(3650).TotalSeconds))
        {
            return Problems.BadRequest($"delay_seconds must be between 0 and 315360000 (was {delay}). Nothing was published.");
        }

        if (body.Id is { } id && ControlEndpoints.ValidateMessageId(id) is { } badId)
        {
            return badId;
        }

        var payload = body.Payload switch
        {
            null => ReadOnlyMemory<byte>.Empty,
            { ValueKind: JsonValueKind.String } text => Encoding.UTF8.GetBytes(text.GetString()!),
            { } json => Encoding.UTF8.GetBytes(json.GetRawText()),
        };
        if (payload.Length > maxPayload)
        {
            return Problems.TooLarge($"The payload is {payload.Length} bytes; the limit is {maxPayload} (Millrace:MaxPayloadBytes). Nothing was published.");
        }

        var result = await publisher.PublishAsync(new OutgoingMessage
        {
            Queue = queue,
            Type = body.Type,
            Payload = payload,
            Priority = body.Priority ?? 0,
            Headers = body.Headers,
            Tenant = body.Tenant,
            DedupKey = body.DedupKey,
            PartitionKey = body.PartitionKey,
            Delay = body.DelaySeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            DeliverAt = body.DeliverAt,
            Id = body.Id,
        }, ct).ConfigureAwait(false);

        var response = new PublishTaskResponse(result.MessageId, queue, body.Type, result.DeliverAt is null ? "pending" : "scheduled",
            result.StreamId, result.Partition, result.Duplicate, result.DeliverAt);
        return result.Duplicate
            ? TypedResults.Ok(response)
            : TypedResults.Created($"/api/v1/tasks/{Uri.EscapeDataString(result.MessageId)}", response);
    }
}
