namespace Millrace;

/// <summary>The payload could not be read as the handler's message type: retrying cannot help, so it goes to the dead-letter queue.</summary>
public sealed class UndecodablePayloadException(string message, Exception inner) : NonRetriableException(message, inner);
