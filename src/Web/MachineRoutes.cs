using Microsoft.AspNetCore.Diagnostics;
using SelfTaught.Web.Health;
using SelfTaught.Web.JobDashboard;

namespace SelfTaught.Web;

/// <summary>
/// Routes read by programs rather than people (the API, health, OpenAPI, the job dashboard): they keep their own
/// status codes and get problem details instead of the HTML error and not-found pages.
/// </summary>
public static class MachineRoutes
{
    public static bool Contains(PathString path) =>
        path.StartsWithSegments("/api")
        || path.StartsWithSegments(HealthEndpoint.Route)
        || path.StartsWithSegments("/openapi")
        || path.StartsWithSegments(JobDashboardEndpoint.Route);

    /// <summary>Turns off the HTML status-code pages for machine routes.</summary>
    public static Task SkipStatusCodePages(HttpContext context, RequestDelegate next)
    {
        if (Contains(context.Request.Path) && context.Features.Get<IStatusCodePagesFeature>() is { } statusCodePages)
        {
            statusCodePages.Enabled = false;
        }

        return next(context);
    }
}

/// <summary>Answers unhandled errors on machine routes with problem details; pages fall through to <c>/Error</c>.</summary>
public sealed class MachineRouteExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        // The exception middleware has already re-pointed the request at the error page: the original path is in the feature.
        var path = httpContext.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerPathFeature>()?.Path ?? httpContext.Request.Path;
        if (!MachineRoutes.Contains(path))
        {
            return false;
        }

        httpContext.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Title = "An unexpected error occurred.", Status = StatusCodes.Status500InternalServerError },
        });
    }
}
