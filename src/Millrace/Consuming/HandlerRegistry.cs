using Microsoft.Extensions.DependencyInjection;

namespace Millrace;

/// <summary>Which handler takes which message type. A type has a single handler, a batch handler, or both (the batch one wins).</summary>
internal sealed class HandlerRegistry
{
    private readonly Dictionary<string, SingleHandler> _single = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BatchHandler> _batch = new(StringComparer.Ordinal);

    public delegate Task SingleInvoker(MessageContext context, CancellationToken cancellationToken);

    public delegate Task BatchInvoker(IServiceProvider services, IReadOnlyList<MessageContext> batch, CancellationToken cancellationToken);

    public sealed record SingleHandler(string Type, SingleInvoker Invoke);

    public sealed record BatchHandler(string Type, BatchOptions Options, BatchInvoker Invoke);

    /// <summary>The largest batch size of any batch handler (0 when there is none).</summary>
    public int LargestBatch => _batch.Count == 0 ? 0 : _batch.Values.Max(b => b.Options.Size);

    public IEnumerable<string> Types => _single.Keys.Concat(_batch.Keys).Distinct(StringComparer.Ordinal);

    public void AddSingle(string type, SingleInvoker invoke)
    {
        if (!_single.TryAdd(type, new SingleHandler(type, invoke)))
        {
            throw new InvalidOperationException($"Message type '{type}' has two handlers; register one per type.");
        }
    }

    public void AddBatch(string type, BatchOptions options, BatchInvoker invoke)
    {
        if (!_batch.TryAdd(type, new BatchHandler(type, options, invoke)))
        {
            throw new InvalidOperationException($"Message type '{type}' has two batch handlers; register one per type.");
        }
    }

    public SingleHandler? Single(string type) => _single.GetValueOrDefault(type);

    public BatchHandler? Batch(string type) => _batch.GetValueOrDefault(type);

    /// <summary>A typed handler resolved from the message's scope, its payload read as JSON.</summary>
    public void AddTyped<TMessage, THandler>(string type)
        where THandler : class, IMessageHandler<TMessage> =>
        AddSingle(type, (context, cancellationToken) =>
        {
            var message = ReadPayload<TMessage>(context.Message);
            return context.Services.GetRequiredService<THandler>().HandleAsync(message, context, cancellationToken);
        });

    /// <summary>A typed batch handler resolved once per batch.</summary>
    public void AddTypedBatch<TMessage, THandler>(string type, BatchOptions options)
        where THandler : class, IBatchMessageHandler<TMessage> =>
        AddBatch(type, options, (services, batch, cancellationToken) =>
        {
            var items = batch.Select(c => new BatchItem<TMessage>(ReadPayload<TMessage>(c.Message), c)).ToArray();
            return services.GetRequiredService<THandler>().HandleAsync(items, cancellationToken);
        });

    private static T ReadPayload<T>(Message message)
    {
        try
        {
            return message.Read<T>() ?? throw new System.Text.Json.JsonException("the payload is JSON null");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or NotSupportedException or ArgumentException)
        {
            throw new UndecodablePayloadException($"The payload of message {message.Id} is not a valid {typeof(T).Name}: {e.Message}", e);
        }
    }
}
