using System.Security.Claims;

namespace Millrace.Server;

/// <summary>Names shared by the server's authentication pieces.</summary>
internal static class MillraceAuth
{
    /// <summary>The policy scheme that picks the key or the cookie.</summary>
    public const string Scheme = "Millrace";

    /// <summary>API keys in X-Api-Key or Authorization: Bearer.</summary>
    public const string KeyScheme = "MillraceApiKey";

    /// <summary>The dashboard's sign-in cookie.</summary>
    public const string CookieScheme = "MillraceCookie";

    public const string CookieName = "millrace.session";
    public const string CsrfHeader = "X-CSRF-Token";
    public const string KeyHeader = "X-Api-Key";

    /// <summary>Claim holding how the caller signed in: "key", "cookie" or "disabled".</summary>
    public const string MethodClaim = "millrace:auth";

    public static string Policy(MillraceRole role) => $"millrace:{role}";

    public static string RoleName(MillraceRole role) => role.ToString();

    /// <summary>A principal holding its own role and every role below it (so RequireRole("Viewer") admits operators).</summary>
    public static ClaimsPrincipal Principal(string name, MillraceRole role, string method, string scheme)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name), new(MethodClaim, method), new("millrace:role", role.ToString()) };
        claims.AddRange(Enum.GetValues<MillraceRole>().Where(r => r <= role).Select(r => new Claim(ClaimTypes.Role, RoleName(r))));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static MillraceRole? RoleOf(ClaimsPrincipal user) =>
        Enum.TryParse<MillraceRole>(user.FindFirst("millrace:role")?.Value, out var role) ? role : null;

    public static bool SignedInWithCookie(ClaimsPrincipal user) => user.FindFirst(MethodClaim)?.Value == "cookie";
}
