using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;

namespace SelfTaught.Core.Tests.Data;

public class DatabaseInitializerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task InitializeAsync_CreatesFolderMigratesAndSetsWal_WhenFileIsMissing()
    {
        using var temp = new TempDatabase();
        Assert.False(File.Exists(temp.FilePath));

        await temp.InitializeAsync();

        Assert.True(File.Exists(temp.FilePath));
        await using var db = temp.Create();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(Ct));
        Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync(Ct));
        var mode = await db.Database.SqlQueryRaw<string>("PRAGMA journal_mode").ToListAsync(Ct);
        Assert.Equal("wal", mode.Single());
    }

    [Fact]
    public async Task InitializeAsync_KeepsData_WhenRunTwice()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        await using (var db = temp.Create())
        {
            db.Datasets.Add(new() { Name = "kept", Role = SelfTaught.Core.Data.Entities.DatasetRole.Benchmark, CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync(Ct);
        }

        await temp.InitializeAsync();

        await using var again = temp.Create();
        Assert.Equal("kept", (await again.Datasets.SingleAsync(Ct)).Name);
    }

    [Fact]
    public async Task InitializeAsync_Throws_AndLeavesFileUntouched_WhenFileIsGarbage()
    {
        using var temp = new TempDatabase();
        Directory.CreateDirectory(Path.GetDirectoryName(temp.FilePath)!);
        var garbage = new byte[8192];
        new Random(7).NextBytes(garbage);
        await File.WriteAllBytesAsync(temp.FilePath, garbage, Ct);
        var before = Hash(temp.FilePath);

        var ex = await Assert.ThrowsAsync<DatabaseStartupException>(temp.InitializeAsync);

        Assert.Contains("ConnectionStrings:SelfTaught", ex.Message);
        Assert.Contains(temp.FilePath, ex.Message);
        Assert.Contains("not a SQLite database", ex.Message);
        Assert.Equal(before, Hash(temp.FilePath));
        Assert.False(File.Exists(temp.FilePath + "-wal"));
    }

    [Fact]
    public async Task InitializeAsync_Throws_AndLeavesFileUntouched_WhenPagesAreCorrupt()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        await using (var db = temp.Create())
        {
            // Fold the WAL into the main file so the corruption below hits real pages.
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;", Ct);
        }
        SqliteConnection.ClearAllPools();
        var bytes = await File.ReadAllBytesAsync(temp.FilePath, Ct);
        // Keep the 16-byte magic header, overwrite the rest of page 1 (schema) with noise.
        for (var i = 16; i < Math.Min(bytes.Length, 4096); i++) bytes[i] = 0xAB;
        await File.WriteAllBytesAsync(temp.FilePath, bytes, Ct);
        var before = Hash(temp.FilePath);

        var ex = await Assert.ThrowsAsync<DatabaseStartupException>(temp.InitializeAsync);

        Assert.Contains("ConnectionStrings:SelfTaught", ex.Message);
        Assert.Contains(temp.FilePath, ex.Message);
        Assert.Equal(before, Hash(temp.FilePath));
    }

    [Fact]
    public async Task InitializeAsync_Throws_WhenFileIsAnotherApplicationsDatabase()
    {
        using var temp = new TempDatabase();
        Directory.CreateDirectory(Path.GetDirectoryName(temp.FilePath)!);
        await using (var connection = new SqliteConnection($"Data Source={temp.FilePath};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('x');";
            await command.ExecuteNonQueryAsync(Ct);
        }
        var before = Hash(temp.FilePath);

        var ex = await Assert.ThrowsAsync<DatabaseStartupException>(temp.InitializeAsync);

        Assert.Contains("not a SelfTaught one", ex.Message);
        Assert.Contains("customers", ex.Message);
        Assert.Equal(before, Hash(temp.FilePath));
    }

    [Fact]
    public async Task InitializeAsync_Throws_WhenDatabaseHasMigrationsFromANewerVersion()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        await using (var db = temp.Create())
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO \"__EFMigrationsHistory\" (\"MigrationId\", \"ProductVersion\") VALUES ('29991231000000_FromTheFuture', '99.0.0')", Ct);

        var ex = await Assert.ThrowsAsync<DatabaseStartupException>(temp.InitializeAsync);

        Assert.Contains("29991231000000_FromTheFuture", ex.Message);
        Assert.Contains("newer version", ex.Message);
    }

    [Fact]
    public async Task InitializeAsync_AcceptsZeroByteFile_AsAnEmptyDatabase()
    {
        using var temp = new TempDatabase();
        Directory.CreateDirectory(Path.GetDirectoryName(temp.FilePath)!);
        await File.WriteAllBytesAsync(temp.FilePath, [], Ct);

        await temp.InitializeAsync();

        await using var db = temp.Create();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(Ct));
    }

    [Fact]
    public async Task InitializeAsync_Throws_WhenDataSourceIsADirectory()
    {
        using var temp = new TempDatabase();
        Directory.CreateDirectory(temp.FilePath);

        var ex = await Assert.ThrowsAsync<DatabaseStartupException>(temp.InitializeAsync);

        Assert.Contains("is a directory", ex.Message);
    }

    [Theory]
    [InlineData("Data Source=x.db;Bogus Key=1", "not a valid SQLite connection string")]
    [InlineData("Data Source=x.db;Mode=Sideways", "not a valid SQLite connection string")]
    [InlineData("Cache=Shared", "names no database file")]
    public void Resolve_Throws_WithTheSettingName_WhenConnectionStringIsBad(string connectionString, string expected)
    {
        var ex = Assert.Throws<DatabaseStartupException>(() => DatabaseOptions.Resolve(connectionString, Path.GetTempPath()));

        Assert.Contains("ConnectionStrings:SelfTaught", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Resolve_PlacesRelativeFileUnderContentRoot_AndDefaultsToDataFolder()
    {
        var root = Path.Combine(Path.GetTempPath(), "content-root");

        var defaults = DatabaseOptions.Resolve(null, root);
        var absolute = DatabaseOptions.Resolve("Data Source=/var/lib/selftaught/app.db", root);

        Assert.Equal(Path.Combine(root, "data", "selftaught.db"), defaults.FilePath);
        Assert.Contains(defaults.FilePath, defaults.ConnectionString);
        Assert.Contains("Mode=ReadWrite", defaults.ConnectionString);
        Assert.DoesNotContain("ReadWriteCreate", defaults.ConnectionString);
        Assert.Equal("/var/lib/selftaught/app.db", absolute.FilePath);
    }

    [Theory]
    [InlineData("Data Source=:memory:")]
    [InlineData("Data Source=app;Mode=Memory;Cache=Shared")]
    public void Resolve_Throws_WhenDatabaseIsInMemory(string connectionString)
    {
        var ex = Assert.Throws<DatabaseStartupException>(() => DatabaseOptions.Resolve(connectionString, Path.GetTempPath()));

        Assert.Contains("ConnectionStrings:SelfTaught", ex.Message);
        Assert.Contains("in-memory", ex.Message);
    }

    [Fact]
    public async Task InitializeAsync_Throws_AndLeavesFileUntouched_WhenAPageDeepInTheFileIsCorrupt()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        await using (var db = temp.Create())
        {
            var dataset = new SelfTaught.Core.Data.Entities.Dataset { Name = "pool", Role = SelfTaught.Core.Data.Entities.DatasetRole.InstructionPool };
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(Ct);
            await db.InsertOrIgnoreAsync(Enumerable.Range(0, 3000).Select(i => new SelfTaught.Core.Data.Entities.Instruction
            {
                DatasetId = dataset.Id, RowIndex = i, Text = $"Explain step {i} of a long derivation in detail, please.",
            }).ToList(), Ct);
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;", Ct);
        }
        SqliteConnection.ClearAllPools();
        var bytes = await File.ReadAllBytesAsync(temp.FilePath, Ct);
        Assert.True(bytes.Length > 200_000, $"database too small to corrupt its middle: {bytes.Length} bytes");
        // Schema (page 1) intact, so opening and listing tables succeeds; only reading every page finds this.
        var middle = bytes.Length / 2 / 4096 * 4096;
        for (var i = middle; i < middle + 40_960; i++) bytes[i] = 0x5A;
        await File.WriteAllBytesAsync(temp.FilePath, bytes, Ct);
        var before = Hash(temp.FilePath);

        var ex = await Assert.ThrowsAsync<DatabaseStartupException>(temp.InitializeAsync);

        Assert.Contains("is corrupt", ex.Message);
        Assert.Contains("ConnectionStrings:SelfTaught", ex.Message);
        Assert.Contains(temp.FilePath, ex.Message);
        Assert.Equal(before, Hash(temp.FilePath));
    }

    [Fact]
    public async Task Contexts_FailInsteadOfCreatingAnEmptyDatabase_WhenTheFileVanishesAfterStartUp()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        SqliteConnection.ClearAllPools();
        File.Delete(temp.FilePath);
        File.Delete(temp.FilePath + "-wal");
        File.Delete(temp.FilePath + "-shm");

        await using var db = temp.Create();
        var ex = await Assert.ThrowsAsync<SqliteException>(() => db.Datasets.CountAsync(Ct));

        Assert.Contains("unable to open database file", ex.Message);
        Assert.False(File.Exists(temp.FilePath));
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
