using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Millrace.Redis;

/// <summary>
/// One reply from Redis. Aggregates (arrays, sets, pushes and maps) hold their items; a map is kept
/// flat (key, value, key, value) so helpers read RESP2 and RESP3 replies the same way.
/// </summary>
public sealed class RedisReply
{
    private static readonly RedisReply[] NoItems = [];

    private readonly byte[]? _bytes;
    private readonly RedisReply[]? _items;
    private readonly long _integer;
    private readonly double _double;

    private RedisReply(RedisReplyKind kind, byte[]? bytes = null, RedisReply[]? items = null, long integer = 0, double number = 0)
    {
        Kind = kind;
        _bytes = bytes;
        _items = items;
        _integer = integer;
        _double = number;
    }

    /// <summary>The null reply.</summary>
    public static RedisReply Null { get; } = new(RedisReplyKind.Null);

    internal static RedisReply Ok { get; } = new(RedisReplyKind.SimpleString, "OK"u8.ToArray());

    /// <summary>The reply's type.</summary>
    public RedisReplyKind Kind { get; }

    /// <summary>True for a null reply.</summary>
    public bool IsNull => Kind == RedisReplyKind.Null;

    /// <summary>True for an error reply.</summary>
    public bool IsError => Kind == RedisReplyKind.Error;

    /// <summary>True for arrays, sets, pushes and maps.</summary>
    public bool IsAggregate => _items is not null;

    /// <summary>The items of an aggregate (a map's are flat: key, value, ...); empty for anything else.</summary>
    public IReadOnlyList<RedisReply> Items => _items ?? NoItems;

    /// <summary>The number of items of an aggregate.</summary>
    public int Count => _items?.Length ?? 0;

    /// <summary>The item at <paramref name="index"/> of an aggregate.</summary>
    public RedisReply this[int index] => (_items ?? throw Unexpected("an aggregate"))[index];

    internal RedisReply[] ItemArray => _items ?? NoItems;

    internal static RedisReply SimpleString(byte[] bytes) => new(RedisReplyKind.SimpleString, bytes);
    internal static RedisReply Error(byte[] bytes) => new(RedisReplyKind.Error, bytes);
    internal static RedisReply Bulk(byte[] bytes) => new(RedisReplyKind.BulkString, bytes);
    internal static RedisReply Verbatim(byte[] bytes) => new(RedisReplyKind.VerbatimString, bytes);
    internal static RedisReply BigNumber(byte[] bytes) => new(RedisReplyKind.BigNumber, bytes);
    internal static RedisReply Integer(long value) => new(RedisReplyKind.Integer, integer: value);
    internal static RedisReply Number(double value) => new(RedisReplyKind.Double, number: value);
    internal static RedisReply Boolean(bool value) => new(RedisReplyKind.Boolean, integer: value ? 1 : 0);
    internal static RedisReply Aggregate(RedisReplyKind kind, RedisReply[] items) => new(kind, items: items);

    /// <summary>The reply as text (UTF-8), or null for a null reply.</summary>
    public string? AsString() => Kind switch
    {
        RedisReplyKind.Null => null,
        RedisReplyKind.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        RedisReplyKind.Double => _double.ToString("R", CultureInfo.InvariantCulture),
        RedisReplyKind.Boolean => _integer != 0 ? "1" : "0",
        _ when _bytes is not null => Encoding.UTF8.GetString(_bytes),
        _ => throw Unexpected("a string"),
    };

    /// <summary>The raw bytes of a string reply, or null for a null reply.</summary>
    public byte[]? AsBytes() => Kind switch
    {
        RedisReplyKind.Null => null,
        _ when _bytes is not null => _bytes,
        RedisReplyKind.Integer => Encoding.ASCII.GetBytes(_integer.ToString(CultureInfo.InvariantCulture)),
        _ => throw Unexpected("a string"),
    };

    /// <summary>The reply as an integer; string replies holding a number are parsed.</summary>
    public long AsInt64()
    {
        if (Kind is RedisReplyKind.Integer or RedisReplyKind.Boolean)
        {
            return _integer;
        }

        if (_bytes is not null && Utf8Parser.TryParse(_bytes, out long value, out var consumed) && consumed == _bytes.Length)
        {
            return value;
        }

        throw Unexpected("an integer");
    }

    /// <summary>The reply as an integer, or null for a null reply.</summary>
    public long? AsNullableInt64() => IsNull ? null : AsInt64();

    /// <summary>The reply as a double; string replies holding a number are parsed (<c>inf</c> included).</summary>
    public double AsDouble()
    {
        switch (Kind)
        {
            case RedisReplyKind.Double:
                return _double;
            case RedisReplyKind.Integer:
                return _integer;
        }

        var text = AsString() ?? throw Unexpected("a number");
        return text switch
        {
            "inf" or "+inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => throw Unexpected("a number"),
        };
    }

    /// <summary>The reply as a boolean: RESP3 booleans, integers 1/0 and <c>OK</c>.</summary>
    public bool AsBoolean() => Kind switch
    {
        RedisReplyKind.Boolean or RedisReplyKind.Integer => _integer != 0,
        RedisReplyKind.SimpleString => true,
        RedisReplyKind.Null => false,
        _ => throw Unexpected("a boolean"),
    };

    /// <summary>Throws <see cref="RedisServerException"/> when this is an error reply; returns the reply otherwise.</summary>
    public RedisReply ThrowIfError(string? command = null)
    {
        if (IsError)
        {
            throw new RedisServerException(AsString()!, command);
        }

        return this;
    }

    /// <summary>Reads a map reply, or a RESP2 flat array of pairs, as name/value pairs.</summary>
    public IEnumerable<KeyValuePair<string, RedisReply>> AsPairs()
    {
        var items = _items ?? throw Unexpected("a map or an array of pairs");
        for (var i = 0; i + 1 < items.Length; i += 2)
        {
            yield return new(items[i].AsString() ?? "", items[i + 1]);
        }
    }

    /// <summary>Reads a map reply, or a RESP2 flat array of pairs, into a dictionary.</summary>
    public Dictionary<string, RedisReply> AsDictionary()
    {
        var result = new Dictionary<string, RedisReply>(StringComparer.Ordinal);
        foreach (var pair in AsPairs())
        {
            result[pair.Key] = pair.Value;
        }

        return result;
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        RedisReplyKind.Null => "(nil)",
        RedisReplyKind.Error => "(error) " + AsString(),
        RedisReplyKind.Array or RedisReplyKind.Set or RedisReplyKind.Map or RedisReplyKind.Push =>
            $"{Kind}[{string.Join(", ", Items.Select(i => i.ToString()))}]",
        _ => AsString() ?? "",
    };

    private InvalidCastException Unexpected(string wanted) =>
        new($"Expected {wanted} from Redis but the reply was {Kind}: {Describe()}");

    private string Describe()
    {
        var text = ToString();
        return text.Length > 120 ? text[..120] + "…" : text;
    }
}
