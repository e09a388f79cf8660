using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Millrace.Server;

/// <summary>The audit log (viewer): newest first, paged with <c>before</c>.</summary>
internal static class AuditEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/audit", async (int? limit, string? before, AuditLog audit, CancellationToken ct) =>
        {
            if (limit is < 1 or > 1000)
            {
                return Problems.BadRequest($"limit must be between 1 and 1000 (was {limit}).");
            }

            if (before is not null && !IsEntryId(before))
            {
                return Problems.BadRequest($"before must be an audit entry id such as 1700000000000-0 (was '{before}').");
            }

            var items = await audit.ReadAsync(limit ?? 100, before, ct).ConfigureAwait(false);
            return TypedResults.Ok(new { Items = items, Next = items.Count == (limit ?? 100) ? items[^1].Id : null });
        }).WithSummary("Mutating calls: who (key name), what (method, path, target), when, and the status answered.");
    }

    private static bool IsEntryId(string text)
    {
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && text[..dash].All(char.IsAsciiDigit) && dash < text.Length - 1 && text[(dash + 1)..].All(char.IsAsciiDigit);
    }
}
