using Microsoft.Extensions.Diagnostics.HealthChecks;
using SelfTaught.Inference;

namespace SelfTaught.Web.Health;

/// <summary>State of the app or one of its parts.</summary>
public enum HealthState
{
    Healthy,
    Degraded,
    Unhealthy,
    /// <summary>Configured but not probed: no health check is registered for this part.</summary>
    NotChecked,
}

/// <summary>Body of <c>GET /health</c>.</summary>
public sealed record HealthResponse(
    HealthState Status,
    DatabaseHealth Database,
    JobQueueHealth JobQueue,
    BackendsHealth Backends)
{
    /// <summary>Name of the health check that reports on backends.</summary>
    public const string BackendsCheckName = SelfTaught.Web.Backends.BackendsHealthCheck.Name;

    /// <summary>Builds the response from a health report and the configured endpoints; parts without a registered check say so.</summary>
    public static HealthResponse From(HealthReport report, IReadOnlyList<EndpointState> endpoints)
    {
        report.Entries.TryGetValue(DatabaseHealthCheck.Name, out var database);
        report.Entries.TryGetValue(JobQueueHealthCheck.Name, out var jobQueue);
        var hasBackends = report.Entries.TryGetValue(BackendsCheckName, out var backends);

        return new HealthResponse(
            ToState(report.Status),
            new DatabaseHealth(
                ToState(database.Status),
                Read<string>(database, "provider"),
                Read<string>(database, "dataSource"),
                Read<int?>(database, "pendingMigrations"),
                database.Description),
            new JobQueueHealth(
                ToState(jobQueue.Status),
                Read<string>(jobQueue, "storage"),
                Read<int?>(jobQueue, "servers"),
                jobQueue.Description),
            new BackendsHealth(
                hasBackends ? ToState(backends.Status) : HealthState.NotChecked,
                hasBackends ? backends.Description : "No health check is registered for the endpoints.",
                [.. endpoints.Select(e => new BackendEndpointHealth(e.Name, e.Options.Kind.ToString(), e.Options.BaseUrl, e.Options.DefaultModel,
                    e.Health.State.ToString(), e.Health.LatencyMs, e.Health.Error))]));
    }

    private static HealthState ToState(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => HealthState.Healthy,
        HealthStatus.Degraded => HealthState.Degraded,
        _ => HealthState.Unhealthy,
    };

    private static T? Read<T>(HealthReportEntry entry, string key) =>
        entry.Data is not null && entry.Data.TryGetValue(key, out var value) && value is T typed ? typed : default;
}

/// <summary>Database part of the health response. <see cref="DataSource"/> is a file path or host, never a secret.</summary>
public sealed record DatabaseHealth(HealthState Status, string? Provider, string? DataSource, int? PendingMigrations, string? Description);

/// <summary>Job queue part of the health response.</summary>
public sealed record JobQueueHealth(HealthState Status, string? Storage, int? Servers, string? Description);

/// <summary>LLM backends part of the health response.</summary>
public sealed record BackendsHealth(HealthState Status, string? Description, IReadOnlyList<BackendEndpointHealth> Endpoints);

/// <summary>A configured LLM endpoint as <c>/health</c> reports it (never its API key).</summary>
public sealed record BackendEndpointHealth(string Name, string Kind, string BaseUrl, string? DefaultModel, string State, int? LatencyMs, string? Error);
