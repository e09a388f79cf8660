using System.Text.Json.Serialization;

namespace Millrace;

/// <summary>Source-generated JSON for the headers field (no reflection on the hot path).</summary>
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class HeadersJson : JsonSerializerContext;
