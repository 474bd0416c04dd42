using Microsoft.Extensions.Diagnostics.HealthChecks;
using SelfTaught.Inference;

namespace SelfTaught.Web.Health;

/// <summary>Maps <c>GET /health</c>: 200 when healthy or degraded, 503 when a part is unhealthy.</summary>
public static class HealthEndpoint
{
    public const string Route = "/health";

    public static IEndpointConventionBuilder MapHealthEndpoint(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Route, async (HealthCheckService health, EndpointRegistry registry, HttpResponse response, CancellationToken cancellationToken) =>
            {
                var report = await health.CheckHealthAsync(cancellationToken);
                // Health must always be live, never a cached answer.
                response.Headers.CacheControl = "no-store, no-cache";
                return TypedResults.Json(
                    HealthResponse.From(report, registry.Endpoints),
                    statusCode: report.Status == HealthStatus.Unhealthy
                        ? StatusCodes.Status503ServiceUnavailable
                        : StatusCodes.Status200OK);
            })
            .WithName("GetHealth")
            .WithTags("Health")
            .WithSummary("Database, job queue and backend status")
            .Produces<HealthResponse>(StatusCodes.Status200OK)
            .Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable);
}
