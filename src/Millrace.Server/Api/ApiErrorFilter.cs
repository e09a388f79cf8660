using Microsoft.AspNetCore.Http;
using Millrace.Redis;

namespace Millrace.Server;

/// <summary>
/// Turns the library's refusals into problem details: <see cref="ArgumentException"/> (bad names,
/// ids, values) is the caller's mistake (400, with the library's message); a Redis outage is 503.
/// </summary>
internal sealed class ApiErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            return Problems.BadRequest(e.Message + " Nothing was changed.");
        }
        catch (RedisException e) when (!context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Problems.Unavailable($"Redis did not answer: {e.Message}");
        }
    }
}
