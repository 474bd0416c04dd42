using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;

namespace SelfTaught.Web.Tests.Infrastructure;

/// <summary>A real SQLite file in the temp folder, deleted (with its WAL files) on dispose.</summary>
public sealed class TempSqliteDatabase : IDisposable
{
    public string FilePath { get; } =
        Path.Combine(Path.GetTempPath(), $"selftaught-web-tests-{Guid.NewGuid():N}.db");

    public string ConnectionString => $"Data Source={FilePath}";

    public SelfTaughtDbContext CreateContext() =>
        new(new DbContextOptionsBuilder<SelfTaughtDbContext>().UseSqlite(ConnectionString).Options);

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var db = CreateContext();
        await db.Database.MigrateAsync(cancellationToken);
    }

    /// <summary>Adds entities in one short-lived context.</summary>
    public async Task AddAsync(CancellationToken cancellationToken, params object[] entities)
    {
        await using var db = CreateContext();
        db.AddRange(entities);
        await db.SaveChangesAsync(cancellationToken);
    }

    public void Dispose()
    {
        // Pooled connections keep the file open; release them before deleting.
        using (var connection = new SqliteConnection(ConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(FilePath + suffix);
        }
    }
}
