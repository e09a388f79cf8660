using System.Text;

namespace Millrace.Redis;

/// <summary>One field of a stream entry.</summary>
/// <param name="Name">Field name.</param>
/// <param name="Value">Field value bytes.</param>
public readonly record struct StreamField(string Name, ReadOnlyMemory<byte> Value)
{
    /// <summary>A field with a text value (UTF-8).</summary>
    public StreamField(string name, string value) : this(name, Encoding.UTF8.GetBytes(value))
    {
    }

    /// <summary>The value as UTF-8 text.</summary>
    public string ValueText => Encoding.UTF8.GetString(Value.Span);
}

/// <summary>A stream entry: its id and fields in the order they were added.</summary>
/// <param name="Id">The entry id (<c>ms-seq</c>).</param>
/// <param name="Fields">The fields.</param>
public sealed record StreamEntry(string Id, IReadOnlyList<StreamField> Fields)
{
    /// <summary>The value of the first field called <paramref name="name"/>, or null.</summary>
    public ReadOnlyMemory<byte>? Get(string name)
    {
        foreach (var field in Fields)
        {
            if (field.Name == name)
            {
                return field.Value;
            }
        }

        return null;
    }

    /// <summary>The value of the field as text, or null.</summary>
    public string? GetString(string name) => Get(name) is { } value ? Encoding.UTF8.GetString(value.Span) : null;
}

/// <summary>Entries read from one stream by XREAD/XREADGROUP.</summary>
/// <param name="Key">The stream key.</param>
/// <param name="Entries">The entries.</param>
public sealed record StreamReadResult(string Key, IReadOnlyList<StreamEntry> Entries);

/// <summary>The reply of XAUTOCLAIM.</summary>
/// <param name="NextId">Where the next call continues; <c>0-0</c> when the scan is complete.</param>
/// <param name="Entries">The entries now owned by the claiming consumer.</param>
/// <param name="DeletedIds">Ids that were pending but are gone from the stream (Redis 7+ drops them from the pending list).</param>
public sealed record AutoClaimResult(string NextId, IReadOnlyList<StreamEntry> Entries, IReadOnlyList<string> DeletedIds);

/// <summary>The summary form of XPENDING.</summary>
/// <param name="Count">Entries pending in the group.</param>
/// <param name="LowestId">The oldest pending id, or null when none.</param>
/// <param name="HighestId">The newest pending id, or null when none.</param>
/// <param name="Consumers">Pending count per consumer.</param>
public sealed record PendingSummary(long Count, string? LowestId, string? HighestId, IReadOnlyDictionary<string, long> Consumers);

/// <summary>One row of the extended form of XPENDING.</summary>
/// <param name="Id">The entry id.</param>
/// <param name="Consumer">Who holds it.</param>
/// <param name="Idle">Time since it was last delivered (or claimed).</param>
/// <param name="DeliveryCount">How many times it was delivered.</param>
public sealed record PendingEntry(string Id, string Consumer, TimeSpan Idle, long DeliveryCount);

/// <summary>XINFO STREAM, with the fields Millrace uses and the rest in <see cref="Raw"/>.</summary>
/// <param name="Length">Entries in the stream.</param>
/// <param name="LastGeneratedId">The last id added.</param>
/// <param name="EntriesAdded">All entries ever added (Redis 7+).</param>
/// <param name="Groups">Number of consumer groups.</param>
/// <param name="FirstEntry">The oldest entry, if any.</param>
/// <param name="LastEntry">The newest entry, if any.</param>
/// <param name="Raw">Every field as Redis sent it.</param>
public sealed record StreamInfo(long Length, string LastGeneratedId, long? EntriesAdded, long Groups, StreamEntry? FirstEntry, StreamEntry? LastEntry, IReadOnlyDictionary<string, RedisReply> Raw);

/// <summary>One row of XINFO GROUPS.</summary>
/// <param name="Name">Group name.</param>
/// <param name="Consumers">Consumers in the group.</param>
/// <param name="Pending">Entries delivered and not yet acknowledged.</param>
/// <param name="LastDeliveredId">The last id delivered to the group.</param>
/// <param name="EntriesRead">Entries read by the group (Redis 7+; null when unknown).</param>
/// <param name="Lag">Entries not yet delivered to the group (Redis 7+; null when Redis cannot tell).</param>
public sealed record GroupInfo(string Name, long Consumers, long Pending, string LastDeliveredId, long? EntriesRead, long? Lag);

/// <summary>One row of XINFO CONSUMERS.</summary>
/// <param name="Name">Consumer name.</param>
/// <param name="Pending">Entries it holds.</param>
/// <param name="Idle">Time since its last attempted interaction.</param>
/// <param name="Inactive">Time since its last successful interaction (Redis 7.2+; null before).</param>
public sealed record ConsumerInfo(string Name, long Pending, TimeSpan Idle, TimeSpan? Inactive);

/// <summary>How a stream is trimmed.</summary>
public enum StreamTrim
{
    /// <summary>Keep at most a number of entries.</summary>
    MaxLength,
    /// <summary>Remove entries with ids below a given id.</summary>
    MinId,
}
