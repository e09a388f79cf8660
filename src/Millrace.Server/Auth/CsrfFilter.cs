using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace Millrace.Server;

/// <summary>
/// Mutating calls made with the dashboard's cookie must carry the CSRF token from
/// <c>GET /api/v1/session</c> in <c>X-CSRF-Token</c>. Calls with an API key need none: a browser
/// never adds the key by itself.
/// </summary>
internal sealed class CsrfFilter(IAntiforgery antiforgery) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (MillraceAuth.SignedInWithCookie(context.HttpContext.User))
        {
            try
            {
                await antiforgery.ValidateRequestAsync(context.HttpContext).ConfigureAwait(false);
            }
            catch (AntiforgeryValidationException)
            {
                return Problems.Forbidden($"This call came with the dashboard's session cookie but without a valid CSRF token: send the token from GET /api/v1/session in the {MillraceAuth.CsrfHeader} header. Nothing was changed.");
            }
        }

        return await next(context).ConfigureAwait(false);
    }
}
