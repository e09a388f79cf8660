using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Millrace.Server;

/// <summary>
/// Reads a JSON request body with errors a caller can act on: wrong content type (415), too large
/// (413), empty, malformed or with unknown fields (400, naming the line and field).
/// </summary>
internal static class RequestBody
{
    // One strict copy per app's options: JsonSerializerOptions caches metadata per instance, so never one per request.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> StrictCopies = [];

    public static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpContext context, long maxBytes, string example)
        where T : class
    {
        var request = context.Request;
        if (request.ContentType is null || !request.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Problems.UnsupportedMediaType($"Send the body as JSON with Content-Type: application/json (got {request.ContentType ?? "no Content-Type"}). Example: {example}"));
        }

        if (request.ContentLength > maxBytes)
        {
            return (null, Problems.TooLarge($"The body is {request.ContentLength} bytes; the limit is {maxBytes}. Nothing was changed."));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return (null, Problems.TooLarge($"The body is larger than the limit of {maxBytes} bytes. Nothing was changed."));
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return (null, Problems.BadRequest($"The body is empty; send a JSON object such as {example}."));
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), Strict(context));
            return value is null
                ? (null, Problems.BadRequest($"The body is JSON null; send a JSON object such as {example}."))
                : (value, null);
        }
        catch (JsonException e)
        {
            return (null, Problems.BadRequest($"The body is not valid for this call: {e.Message} Expected a JSON object such as {example}."));
        }
    }

    /// <summary>The app's JSON settings (snake_case), refusing fields this API does not know (typos fail loudly).</summary>
    private static JsonSerializerOptions Strict(HttpContext context)
    {
        var app = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        return StrictCopies.GetValue(app, source => new JsonSerializerOptions(source)
        {
            UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        });
    }
}
