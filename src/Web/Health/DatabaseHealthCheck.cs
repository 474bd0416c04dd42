using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SelfTaught.Core.Data;

namespace SelfTaught.Web.Health;

/// <summary>Healthy when the database answers <c>SELECT 1</c> and has no pending migrations.</summary>
public sealed partial class DatabaseHealthCheck(
    IDbContextFactory<SelfTaughtDbContext> contextFactory,
    ILogger<DatabaseHealthCheck> logger) : IHealthCheck
{
    public const string Name = "database";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var db = await contextFactory.CreateDbContextAsync(cancellationToken);
        var description = DatabaseDescription.From(db);
        var data = new Dictionary<string, object>
        {
            ["provider"] = description.Provider,
            ["dataSource"] = description.DataSource,
        };

        try
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            await using (var command = db.Database.GetDbConnection().CreateCommand())
            {
                command.CommandText = "SELECT 1";
                await command.ExecuteScalarAsync(cancellationToken);
            }

            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            data["pendingMigrations"] = pending.Count;
            return pending.Count == 0
                ? HealthCheckResult.Healthy("Database reachable and up to date.", data)
                : HealthCheckResult.Unhealthy(
                    $"{pending.Count} migration(s) not applied: {string.Join(", ", pending)}. Restart the app to apply them.",
                    data: data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogDatabaseUnhealthy(logger, description.DataSource, ex);
            return HealthCheckResult.Unhealthy($"Database not reachable: {ex.Message}", ex, data);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database health check failed for {DataSource}")]
    private static partial void LogDatabaseUnhealthy(ILogger logger, string dataSource, Exception exception);
}
