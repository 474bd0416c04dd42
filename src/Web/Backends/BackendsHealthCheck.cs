using Microsoft.Extensions.Diagnostics.HealthChecks;
using SelfTaught.Inference;

namespace SelfTaught.Web.Backends;

/// <summary>
/// Reports the endpoints' last health checks. An unreachable LLM server degrades the app but does not make it
/// unhealthy: browsing, audits and imports still work without one.
/// </summary>
public sealed class BackendsHealthCheck(EndpointRegistry registry) : IHealthCheck
{
    public const string Name = "backends";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var endpoints = registry.Endpoints;
        var unhealthy = endpoints.Where(e => e.IsUnhealthy).Select(e => $"{e.Name}: {e.Health.Error}").ToList();
        var unknown = endpoints.Count(e => e.Health.State == EndpointHealth.Unknown);
        var result = unhealthy.Count > 0
            ? HealthCheckResult.Degraded($"{unhealthy.Count} of {endpoints.Count} endpoint(s) unreachable: {string.Join("; ", unhealthy)}")
            : HealthCheckResult.Healthy(unknown > 0 ? $"{unknown} endpoint(s) not checked yet." : $"All {endpoints.Count} endpoint(s) reachable.");
        return Task.FromResult(result);
    }
}
