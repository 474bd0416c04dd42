using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SelfTaught.Inference;

/// <summary>Checks every endpoint at start, whenever the set changes, and then every <c>Inference:HealthCheckIntervalSeconds</c>.</summary>
public sealed partial class EndpointHealthMonitor(EndpointRegistry registry, EndpointHealthChecker checker, InferenceOptions options,
    ILogger<EndpointHealthMonitor> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        registry.Changed += Wake;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await CheckOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // An exception escaping ExecuteAsync would stop the host (BackgroundServiceExceptionBehavior.StopHost).
                    LogCheckFailed(logger, ex);
                }
                await _wake.WaitAsync(TimeSpan.FromSeconds(options.HealthCheckIntervalSeconds), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutting down.
        }
        finally
        {
            registry.Changed -= Wake;
        }
    }

    private async Task CheckOnceAsync(CancellationToken stoppingToken)
    {
        var before = registry.Endpoints.ToDictionary(e => e, e => e.Health.State);
        await checker.CheckAllAsync(stoppingToken);
        foreach (var endpoint in registry.Endpoints)
        {
            if (before.TryGetValue(endpoint, out var previous) && previous == endpoint.Health.State) continue;
            if (endpoint.IsUnhealthy) LogUnhealthy(logger, endpoint.Name, endpoint.Options.BaseUrl, endpoint.Health.Error ?? "");
            else LogHealthy(logger, endpoint.Name, endpoint.Options.BaseUrl, endpoint.Health.Models.Count);
        }
    }

    private void Wake() => _wake.Release();

    [LoggerMessage(Level = LogLevel.Error, Message = "Checking the endpoints failed; trying again at the next interval")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Endpoint {Endpoint} ({BaseUrl}) is unhealthy: {Problem}")]
    private static partial void LogUnhealthy(ILogger logger, string endpoint, string baseUrl, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint {Endpoint} ({BaseUrl}) is healthy with {ModelCount} model(s)")]
    private static partial void LogHealthy(ILogger logger, string endpoint, string baseUrl, int modelCount);
}
