using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Millrace.Server;

/// <summary>Authenticates <c>X-Api-Key: &lt;key&gt;</c> or <c>Authorization: Bearer &lt;key&gt;</c> against <see cref="ApiKeyStore"/>.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string InvalidKeyItem = "millrace:invalid-key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (keys.AuthDisabled)
        {
            var anyone = MillraceAuth.Principal("anonymous (auth disabled)", MillraceRole.Admin, "disabled", Scheme.Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(anyone, Scheme.Name)));
        }

        var presented = Presented(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (keys.Find(presented) is not { } holder)
        {
            Context.Items[InvalidKeyItem] = true;
            return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        }

        var principal = MillraceAuth.Principal(holder.Name, holder.Role, "key", Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }

    /// <summary>The key in X-Api-Key, else in Authorization: Bearer; null when neither is sent.</summary>
    public static string? Presented(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        if (request.Headers.TryGetValue(MillraceAuth.KeyHeader, out var header) && header.Count > 0)
        {
            return header[0] ?? "";
        }

        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }

    public static bool HasKeyHeader(Microsoft.AspNetCore.Http.HttpRequest request) =>
        request.Headers.ContainsKey(MillraceAuth.KeyHeader) || request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
}
