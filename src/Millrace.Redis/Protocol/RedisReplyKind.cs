namespace Millrace.Redis;

/// <summary>The RESP2 and RESP3 reply types.</summary>
public enum RedisReplyKind : byte
{
    /// <summary>A simple string (<c>+OK</c>).</summary>
    SimpleString,
    /// <summary>An error (<c>-ERR ...</c> or a RESP3 blob error).</summary>
    Error,
    /// <summary>A 64-bit integer.</summary>
    Integer,
    /// <summary>A binary-safe bulk string.</summary>
    BulkString,
    /// <summary>An array of replies.</summary>
    Array,
    /// <summary>A null (RESP2 null bulk string or array, RESP3 null).</summary>
    Null,
    /// <summary>A RESP3 double.</summary>
    Double,
    /// <summary>A RESP3 boolean.</summary>
    Boolean,
    /// <summary>A RESP3 big number, kept as its decimal text.</summary>
    BigNumber,
    /// <summary>A RESP3 verbatim string; the format prefix is dropped.</summary>
    VerbatimString,
    /// <summary>A RESP3 map, kept flat as key, value, key, value.</summary>
    Map,
    /// <summary>A RESP3 set.</summary>
    Set,
    /// <summary>A RESP3 out-of-band push message.</summary>
    Push,
}
