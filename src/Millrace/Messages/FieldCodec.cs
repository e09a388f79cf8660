using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Millrace.Redis;

namespace Millrace;

/// <summary>
/// Stream fields packed into one binary-safe value (for delayed and parked messages, which wait
/// outside the stream): each name and each value as <c>&lt;length&gt;:&lt;bytes&gt;</c>, in order.
/// Simple enough that the Lua scripts unpack it without a library (see <see cref="LuaDecoder"/>).
/// </summary>
internal static class FieldCodec
{
    /// <summary>The Lua function the scripts use to unpack a body into a flat name, value, ... list.</summary>
    public const string LuaDecoder = """
        local function unpack_fields(s)
          local out, i = {}, 1
          while i <= #s do
            local colon = string.find(s, ':', i, true)
            local n = tonumber(string.sub(s, i, colon - 1))
            out[#out + 1] = string.sub(s, colon + 1, colon + n)
            i = colon + n + 1
          end
          return out
        end
        """;

    /// <summary>Lua: the stream a message goes to, from KEYS[first..] (one per priority level, lowest first) and its priority field.</summary>
    public const string LuaLevelStream = """
        local function level_stream(fields, first)
          local levels = #KEYS - first + 1
          local level = 0
          for i = 1, #fields, 2 do
            if fields[i] == 'priority' then level = math.floor(tonumber(fields[i + 1]) or 0) end
          end
          return KEYS[first + math.max(0, math.min(levels - 1, level))]
        end
        """;

    public static byte[] Encode(IReadOnlyList<StreamField> fields)
    {
        var output = new ArrayBufferWriter<byte>(256);
        foreach (var field in fields)
        {
            Write(output, Encoding.UTF8.GetBytes(field.Name));
            Write(output, field.Value.Span);
        }

        return output.WrittenSpan.ToArray();
    }

    public static StreamField[] Decode(ReadOnlySpan<byte> body)
    {
        var parts = new List<byte[]>();
        while (!body.IsEmpty)
        {
            var colon = body.IndexOf((byte)':');
            if (colon <= 0 || !Utf8Parser.TryParse(body[..colon], out int length, out var used) || used != colon || length < 0 || colon + 1 + length > body.Length)
            {
                throw new FormatException("A packed message body is malformed.");
            }

            parts.Add(body.Slice(colon + 1, length).ToArray());
            body = body[(colon + 1 + length)..];
        }

        if (parts.Count % 2 != 0)
        {
            throw new FormatException("A packed message body has a name without a value.");
        }

        var fields = new StreamField[parts.Count / 2];
        for (var i = 0; i < fields.Length; i++)
        {
            fields[i] = new StreamField(Encoding.UTF8.GetString(parts[2 * i]), parts[(2 * i) + 1]);
        }

        return fields;
    }

    /// <summary>The fields with <paramref name="name"/> set to <paramref name="value"/> (replaced, or added at the end).</summary>
    public static List<StreamField> With(IEnumerable<StreamField> fields, string name, string value)
    {
        var result = fields.Where(f => f.Name != name).ToList();
        result.Add(new StreamField(name, value));
        return result;
    }

    private static void Write(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        var span = output.GetSpan(12);
        Utf8Formatter.TryFormat(value.Length, span, out var written);
        span[written] = (byte)':';
        output.Advance(written + 1);
        output.Write(value);
    }
}
