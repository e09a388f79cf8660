namespace Millrace;

/// <summary>What a handler knows about the delivery it is handling.</summary>
public sealed class MessageContext
{
    internal MessageContext(Message message, bool redelivered, string group, string consumer, IServiceProvider services)
    {
        Message = message;
        Redelivered = redelivered;
        Group = group;
        Consumer = consumer;
        Services = services;
    }

    /// <summary>The message envelope (id, type, headers, payload...).</summary>
    public Message Message { get; }

    /// <summary>
    /// True when this message was taken over from another consumer (or this one) after its lease
    /// lapsed: a previous attempt may have run, in part or in full. Handlers with side effects
    /// outside Redis should be idempotent; see <see cref="IdempotentEffects"/> for effects in Redis.
    /// </summary>
    public bool Redelivered { get; }

    /// <summary>The consumer group.</summary>
    public string Group { get; }

    /// <summary>This process's consumer name.</summary>
    public string Consumer { get; }

    /// <summary>The handler's scoped services.</summary>
    public IServiceProvider Services { get; }

    /// <summary>
    /// What the handler produced, kept in the message's task record when task state is on
    /// (<see cref="TaskStateOptions"/>); text, typically JSON. Null for none.
    /// </summary>
    public string? Result { get; set; }
}
