using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Millrace.Server;

/// <summary>
/// The dashboard's sign-in: <c>POST /auth/signin</c> (form field <c>key</c>) sets an HttpOnly,
/// SameSite=Strict session cookie; <c>GET /api/v1/session</c> says who is signed in and hands out the
/// CSRF token the dashboard sends with mutating calls; <c>POST /auth/signout</c> ends the session.
/// </summary>
internal static class SessionEndpoints
{
    public static void Map(RouteGroupBuilder root, RouteGroupBuilder api)
    {
        root.MapPost("/auth/signin", async (HttpContext http, ApiKeyStore keys) =>
        {
            if (CrossOrigin(http.Request))
            {
                return Problems.Forbidden("Sign-in must come from the dashboard's own page (the Origin header names another site).");
            }

            if (!http.Request.HasFormContentType)
            {
                return Problems.UnsupportedMediaType("Sign in with a form post (application/x-www-form-urlencoded) carrying the field 'key'.");
            }

            var form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
            var holder = keys.AuthDisabled ? ("anonymous (auth disabled)", MillraceRole.Admin) : keys.Find(form["key"].ToString());
            if (holder is not { } found)
            {
                http.Items[AuditMiddleware.WhoItem] = "(invalid key)";
                return http.Request.Headers.Accept.ToString().Contains("application/json", StringComparison.Ordinal)
                    ? Problems.Make(StatusCodes.Status401Unauthorized, "Unauthorized", "The API key is not valid.")
                    : Results.Redirect("/?signin=failed");
            }

            http.Items[AuditMiddleware.WhoItem] = found.Item1;
            var principal = MillraceAuth.Principal(found.Item1, found.Item2, "cookie", MillraceAuth.CookieScheme);
            await http.SignInAsync(MillraceAuth.CookieScheme, principal).ConfigureAwait(false);
            return Results.Redirect("/");
        }).AllowAnonymous().DisableAntiforgery().WithSummary("Dashboard sign-in with an API key (form field 'key'); sets the session cookie.");

        root.MapPost("/auth/signout", async (HttpContext http) =>
        {
            await http.SignOutAsync(MillraceAuth.CookieScheme).ConfigureAwait(false);
            return Results.Redirect("/");
        }).AddEndpointFilter<CsrfFilter>().WithSummary("Ends the dashboard session.");

        api.MapGet("/session", (HttpContext http, IAntiforgery antiforgery) =>
        {
            var tokens = antiforgery.GetAndStoreTokens(http);
            return TypedResults.Ok(new
            {
                Name = http.User.Identity?.Name,
                Role = MillraceAuth.RoleOf(http.User)?.ToString(),
                Method = http.User.FindFirst(MillraceAuth.MethodClaim)?.Value,
                CsrfHeader = MillraceAuth.CsrfHeader,
                CsrfToken = tokens.RequestToken,
            });
        }).WithSummary("Who is calling, with which role, and the CSRF token for mutating calls made with the session cookie.");
    }

    private static bool CrossOrigin(HttpRequest request) =>
        request.Headers.Origin.ToString() is { Length: > 0 } origin && origin != "null"
        && (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
}
