using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using SelfTaught.Core.Data;

namespace SelfTaught.Core.Tests;

/// <summary>A real SQLite file in a fresh temp folder, deleted on dispose.</summary>
internal sealed class TempDatabase : IDisposable
{
    public TempDatabase()
    {
        Folder = Path.Combine(Path.GetTempPath(), "selftaught-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        FilePath = Path.Combine(Folder, "data", "app.db");
        Options = DatabaseOptions.Resolve("Data Source=data/app.db", Folder);
        Factory = new FileContextFactory(Options.ConnectionString);
    }

    public string Folder { get; }
    public string FilePath { get; }
    public DatabaseOptions Options { get; }
    public IDbContextFactory<SelfTaughtDbContext> Factory { get; }

    public Task InitializeAsync() =>
        DatabaseInitializer.InitializeAsync(Factory, Options, NullLogger.Instance, cancellationToken: Xunit.TestContext.Current.CancellationToken);

    public SelfTaughtDbContext Create() => Factory.CreateDbContext();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { /* best effort */ }
    }

    private sealed class FileContextFactory(string connectionString) : IDbContextFactory<SelfTaughtDbContext>
    {
        public SelfTaughtDbContext CreateDbContext() =>
            new(new DbContextOptionsBuilder<SelfTaughtDbContext>().UseSelfTaughtSqlite(connectionString).Options);
    }
}
