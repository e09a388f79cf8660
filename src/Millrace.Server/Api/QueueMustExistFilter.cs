using Microsoft.AspNetCore.Http;

namespace Millrace.Server;

/// <summary>For routes with <c>{queue}</c>: a malformed name is 400, an undeclared queue is 404, before anything is touched.</summary>
internal sealed class QueueMustExistFilter(MillraceAdmin admin) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var queue = context.HttpContext.Request.RouteValues["queue"] as string;
        try
        {
            QueueName.Validate(queue);
        }
        catch (ArgumentException e)
        {
            return Problems.BadRequest(e.Message);
        }

        if (!await admin.QueueExistsAsync(queue!, context.HttpContext.RequestAborted).ConfigureAwait(false))
        {
            var known = await admin.QueueNamesAsync(context.HttpContext.RequestAborted).ConfigureAwait(false);
            return Problems.NotFound($"There is no queue '{queue}'. Known queues: {(known.Count == 0 ? "none yet (a queue is declared when a consumer of it starts)" : string.Join(", ", known))}.");
        }

        return await next(context).ConfigureAwait(false);
    }
}
