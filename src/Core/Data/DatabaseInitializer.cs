using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace SelfTaught.Core.Data;

/// <summary>
/// Checks the configured database before anything touches it, then applies migrations and turns on WAL.
/// An existing file that is unreadable, corrupt, not SQLite or not a SelfTaught database stops start-up
/// with a <see cref="DatabaseStartupException"/> and is left byte-for-byte as it was.
/// </summary>
public static partial class DatabaseInitializer
{
    private static readonly byte[] SqliteHeader = Encoding.ASCII.GetBytes("SQLite format 3\0");

    /// <summary>Validates, migrates and sets WAL mode.</summary>
    /// <param name="factory">Contexts on <see cref="DatabaseOptions.ConnectionString"/>.</param>
    /// <param name="options">The resolved database settings.</param>
    /// <param name="logger">Start-up log.</param>
    /// <param name="integrityCheck">Run SQLite's <c>PRAGMA quick_check</c> over an existing file (reads every page; seconds on a multi-GB file).</param>
    /// <param name="cancellationToken">Cancels start-up.</param>
    public static async Task InitializeAsync(IDbContextFactory<SelfTaughtDbContext> factory, DatabaseOptions options,
        ILogger logger, bool integrityCheck = true, CancellationToken cancellationToken = default)
    {
        var path = options.FilePath;
        if (Directory.Exists(path))
            throw Fail(path, "is a directory, not a database file");
        if (File.Exists(path))
            CheckExistingFile(path, integrityCheck);
        else
            CreateEmptyDatabase(path);
        LogDatabase(logger, path);

        try
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken);
            var applied = (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).ToList();
            var unknown = applied.Except(db.Database.GetMigrations()).ToList();
            if (unknown.Count > 0)
                throw Fail(path,
                    $"was written by a newer version of SelfTaught (unknown migrations: {string.Join(", ", unknown)}); run that version or use another file");

            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            await db.Database.MigrateAsync(cancellationToken);
            if (pending.Count > 0) LogMigrated(logger, pending.Count, path);

            // WAL lets the UI read while jobs write; the mode is persistent once set on the file.
            var mode = await db.Database.SqlQueryRaw<string>("PRAGMA journal_mode=WAL").ToListAsync(cancellationToken);
            if (!string.Equals(mode.SingleOrDefault(), "wal", StringComparison.OrdinalIgnoreCase))
                LogNoWal(logger, mode.SingleOrDefault() ?? "unknown", path);
        }
        catch (SqliteException ex)
        {
            throw Fail(path, $"cannot be opened or migrated: {ex.Message}", ex);
        }
    }

    private static void CheckExistingFile(string path, bool integrityCheck)
    {
        var header = new byte[SqliteHeader.Length];
        int read;
        long length;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            length = stream.Length;
            read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Fail(path, $"cannot be read ({ex.Message})", ex);
        }

        // SQLite treats a zero-byte file as an empty database: nothing there can be lost.
        if (length == 0) return;
        if (read < header.Length || !header.AsSpan().SequenceEqual(SqliteHeader))
            throw Fail(path, "is not a SQLite database (its header is wrong: the file is corrupt or of another kind)");

        var readOnly = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        try
        {
            using var connection = new SqliteConnection(readOnly.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            var tables = new List<string>();
            using (var reader = command.ExecuteReader())
                while (reader.Read()) tables.Add(reader.GetString(0));
            if (tables.Count > 0 && !tables.Contains("__EFMigrationsHistory"))
                throw Fail(path, $"is a SQLite database but not a SelfTaught one (it has tables such as '{tables[0]}' and no migration history)");
            if (integrityCheck)
            {
                // Damage past the schema page shows up only when those pages are read: check them all, read-only.
                command.CommandText = "PRAGMA quick_check(5)";
                var problems = new List<string>();
                using (var reader = command.ExecuteReader())
                    while (reader.Read()) problems.Add(reader.GetString(0));
                if (problems is not ["ok"])
                    throw Fail(path, $"is corrupt (SQLite's integrity check reports: {string.Join("; ", problems)})");
            }
        }
        catch (SqliteException ex)
        {
            throw Fail(path, $"is corrupt ({ex.Message})", ex);
        }
    }

    // The only place a database file is created: the app's own connections open without create.
    private static void CreateEmptyDatabase(string path)
    {
        var folder = Path.GetDirectoryName(path)!;
        try
        {
            Directory.CreateDirectory(folder);
            var create = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false };
            using var connection = new SqliteConnection(create.ToString());
            connection.Open();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SqliteException)
        {
            throw Fail(path, $"cannot be created in '{folder}' ({ex.Message})", ex);
        }
    }

    private static DatabaseStartupException Fail(string path, string problem, Exception? inner = null) =>
        new($"The database file '{path}' (setting '{DatabaseOptions.ConnectionStringKey}') {problem}. " +
            "SelfTaught did not start and left the file untouched: restore it from a backup, or point " +
            $"'{DatabaseOptions.ConnectionStringKey}' at another file.", inner);

    [LoggerMessage(Level = LogLevel.Information, Message = "Using database file {Database}")]
    private static partial void LogDatabase(ILogger logger, string database);

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Count} database migration(s) to {Database}")]
    private static partial void LogMigrated(ILogger logger, int count, string database);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SQLite journal mode is {Mode}, not WAL, for {Database}; readers may wait for writers")]
    private static partial void LogNoWal(ILogger logger, string mode, string database);
}
