using System.Text.Json;

namespace Millrace;

/// <summary>The JSON settings typed messages use unless told otherwise (web defaults: camelCase).</summary>
public static class MessageJson
{
    /// <summary>The shared options.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
