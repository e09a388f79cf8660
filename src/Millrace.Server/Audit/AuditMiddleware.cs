using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Millrace.Redis;

namespace Millrace.Server;

/// <summary>
/// Writes every mutating call to Millrace's endpoints (POST, PUT, PATCH, DELETE) to the audit log
/// after it is answered, refused calls (401, 403, 4xx) included: who, what, when, result.
/// Runs between authentication and authorization so refusals are seen too.
/// </summary>
internal sealed partial class AuditMiddleware(RequestDelegate next, AuditLog audit, ILogger<AuditMiddleware> log)
{
    public const string WhoItem = "millrace:audit-who";

    private static readonly string[] TargetKeys = ["queue", "type", "id", "partition", "entry", "scope", "key"];

    public async Task InvokeAsync(HttpContext context)
    {
        var audited = context.GetEndpoint()?.Metadata.GetMetadata<MillraceEndpointMarker>() is not null
            && (HttpMethods.IsPost(context.Request.Method) || HttpMethods.IsPut(context.Request.Method)
                || HttpMethods.IsPatch(context.Request.Method) || HttpMethods.IsDelete(context.Request.Method));
        if (!audited)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        // Written as the response starts, so the record is in Redis before the caller sees the answer
        // (a caller that reads the audit log right after its call finds it there).
        var written = 0;
        Task WriteOnceAsync(int status) => Interlocked.Exchange(ref written, 1) == 0 ? WriteAsync(context, status) : Task.CompletedTask;
        context.Response.OnStarting(() => WriteOnceAsync(context.Response.StatusCode));
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception) when (!context.RequestAborted.IsCancellationRequested)
        {
            // The error handler answers 500 after this middleware: record that, then let it through.
            await WriteOnceAsync(StatusCodes.Status500InternalServerError).ConfigureAwait(false);
            throw;
        }

        await WriteOnceAsync(context.Response.StatusCode).ConfigureAwait(false);
    }

    private async Task WriteAsync(HttpContext context, int status)
    {
        var who = context.Items[WhoItem] as string
            ?? (context.User.Identity?.IsAuthenticated == true ? context.User.Identity.Name : null)
            ?? (context.Items.ContainsKey(ApiKeyAuthenticationHandler.InvalidKeyItem) ? "(invalid key)" : "(no key)");
        var values = context.Request.RouteValues;
        var target = string.Join(' ', TargetKeys.Where(values.ContainsKey).Select(k => $"{k}={values[k]}"));
        try
        {
            // The call is already answered: audit even if the caller has gone away.
            await audit.AppendAsync(who!, MillraceAuth.RoleOf(context.User)?.ToString(), context.Request.Method, context.Request.Path.Value ?? "",
                target.Length == 0 ? null : target, status, context.Connection.RemoteIpAddress?.ToString(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (RedisException e)
        {
            // The call itself already happened (or failed on the same outage); say loudly that its record is missing.
            LogAuditLost(log, context.Request.Method, context.Request.Path.Value ?? "", who!, status, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "AUDIT RECORD LOST: {Method} {Path} by {Who} answered {Status}, but Redis did not take the audit entry: {Error}")]
    private static partial void LogAuditLost(ILogger log, string method, string path, string who, int status, string error);
}
