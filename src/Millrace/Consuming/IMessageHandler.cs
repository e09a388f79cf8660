namespace Millrace;

/// <summary>Handles messages of one type. Return normally to acknowledge; throw to leave the message for another attempt.</summary>
/// <typeparam name="T">The message, read from the payload as JSON.</typeparam>
/// <example>
/// <code>
/// public sealed class SendReceipt(IMailer mailer) : IMessageHandler&lt;OrderPaid&gt;
/// {
///     public Task HandleAsync(OrderPaid message, MessageContext context, CancellationToken cancellationToken) =>
///         mailer.SendAsync(message.Email, $"Order {message.OrderId} is paid", cancellationToken);
/// }
/// </code>
/// </example>
public interface IMessageHandler<in T>
{
    /// <summary>Handles one message. The token fires at the handler timeout and at a forced shutdown.</summary>
    Task HandleAsync(T message, MessageContext context, CancellationToken cancellationToken);
}

/// <summary>Handles messages of one type in batches. Return normally to acknowledge the whole batch; throw to leave all of it.</summary>
/// <typeparam name="T">The message, read from the payload as JSON.</typeparam>
public interface IBatchMessageHandler<T>
{
    /// <summary>Handles a batch of up to <see cref="BatchOptions.Size"/> messages.</summary>
    Task HandleAsync(IReadOnlyList<BatchItem<T>> batch, CancellationToken cancellationToken);
}

/// <summary>One message of a batch.</summary>
/// <param name="Message">The message.</param>
/// <param name="Context">Its delivery.</param>
public sealed record BatchItem<T>(T Message, MessageContext Context);

/// <summary>How a batch handler's batches are formed.</summary>
public sealed class BatchOptions
{
    /// <summary>Most messages in one batch. The consumer's in-flight limit grows to fit it (a batch holds its messages until it runs).</summary>
    public int Size { get; set; } = 100;

    /// <summary>Longest the first message of a batch waits for the batch to fill before it is handled anyway.</summary>
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest one batch may run before its cancellation token fires (infinite by default).</summary>
    public TimeSpan Timeout { get; set; } = System.Threading.Timeout.InfiniteTimeSpan;
}
