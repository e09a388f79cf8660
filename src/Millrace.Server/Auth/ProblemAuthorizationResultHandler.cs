using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace Millrace.Server;

/// <summary>
/// Answers refused calls to Millrace's endpoints with problem details that say what to do: 401 when
/// no valid key or session came, 403 naming the role the call needs. Other endpoints of the app keep
/// ASP.NET Core's default behaviour.
/// </summary>
internal sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<MillraceEndpointMarker>() is null || authorizeResult.Succeeded)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult).ConfigureAwait(false);
            return;
        }

        if (authorizeResult.Challenged)
        {
            var invalid = context.Items.ContainsKey(ApiKeyAuthenticationHandler.InvalidKeyItem);
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.Write(context, StatusCodes.Status401Unauthorized, "Unauthorized",
                invalid
                    ? "The API key is not valid: check the key sent in X-Api-Key (or Authorization: Bearer)."
                    : "This call needs an API key: send it in the X-Api-Key header or as Authorization: Bearer <key>, or sign in to the dashboard.").ConfigureAwait(false);
            return;
        }

        var needed = (authorizeResult.AuthorizationFailure?.FailedRequirements ?? policy.Requirements)
            .OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).LastOrDefault() ?? "another role";
        var role = MillraceAuth.RoleOf(context.User)?.ToString() ?? "no role";
        await Problems.Write(context, StatusCodes.Status403Forbidden, "Forbidden",
            $"'{context.User.Identity?.Name}' has the {role} role; {context.Request.Method} {context.Request.Path} needs {needed}.").ConfigureAwait(false);
    }
}

/// <summary>Marks the endpoints Millrace maps, so its refusal messages apply to them only.</summary>
internal sealed class MillraceEndpointMarker
{
    public static readonly MillraceEndpointMarker Instance = new();
}
