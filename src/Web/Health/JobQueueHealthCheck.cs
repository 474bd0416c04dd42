using Hangfire;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using SelfTaught.Jobs;

namespace SelfTaught.Web.Health;

/// <summary>
/// Reports the Hangfire storage and how many job servers are registered with it. Healthy with at least one server;
/// degraded with none (jobs would queue but not run); unhealthy when the storage cannot be read.
/// </summary>
public sealed partial class JobQueueHealthCheck(
    JobStorage storage,
    IOptions<HangfireOptions> options,
    ILogger<JobQueueHealthCheck> logger) : IHealthCheck
{
    public const string Name = "jobQueue";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["storage"] = options.Value.Storage };
        try
        {
            var servers = storage.GetMonitoringApi().Servers().Count;
            data["servers"] = servers;
            return Task.FromResult(servers > 0
                ? HealthCheckResult.Healthy($"{servers} job server(s) running.", data)
                : HealthCheckResult.Degraded("No job server is running: queued jobs will wait.", data: data));
        }
        catch (Exception ex)
        {
            LogQueueUnhealthy(logger, options.Value.Storage, ex);
            return Task.FromResult(HealthCheckResult.Unhealthy($"Job storage not readable: {ex.Message}", ex, data));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job queue health check failed for storage {Storage}")]
    private static partial void LogQueueUnhealthy(ILogger logger, string storage, Exception exception);
}
