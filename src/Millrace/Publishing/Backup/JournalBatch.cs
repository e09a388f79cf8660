namespace Millrace;

/// <summary>Records read for replay: the messages in journal order, and where the next batch starts.</summary>
internal sealed record JournalBatch(IReadOnlyList<OutgoingMessage> Messages, long Start, long End, long Generation);
