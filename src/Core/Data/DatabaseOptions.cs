using Microsoft.Data.Sqlite;

namespace SelfTaught.Core.Data;

/// <summary>Where the application database lives. Bound from <c>ConnectionStrings:SelfTaught</c>.</summary>
public sealed class DatabaseOptions
{
    /// <summary>Configuration key of the connection string.</summary>
    public const string ConnectionStringKey = "ConnectionStrings:SelfTaught";

    /// <summary>Configuration key of the start-up integrity check of an existing file (default true).</summary>
    public const string IntegrityCheckKey = "Database:IntegrityCheckOnStartup";

    /// <summary>Used when the key is not set: a SQLite file in <c>data/</c> under the content root.</summary>
    public const string DefaultConnectionString = "Data Source=data/selftaught.db";

    /// <summary>
    /// The connection string with a relative data source resolved against the content root. Unless the setting names
    /// a mode, it opens the file without creating it (<c>Mode=ReadWrite</c>): only start-up creates a missing file,
    /// so a database that vanishes while the app runs fails loudly instead of being replaced by an empty one.
    /// </summary>
    public required string ConnectionString { get; init; }

    /// <summary>Full path of the SQLite file.</summary>
    public required string FilePath { get; init; }

    /// <summary>
    /// Parses <paramref name="configured"/> (or the default) and resolves a relative file against <paramref name="contentRoot"/>.
    /// </summary>
    /// <exception cref="DatabaseStartupException">The connection string cannot be parsed or names no data source.</exception>
    public static DatabaseOptions Resolve(string? configured, string contentRoot)
    {
        var raw = string.IsNullOrWhiteSpace(configured) ? DefaultConnectionString : configured;
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(raw);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new DatabaseStartupException(
                $"The setting '{ConnectionStringKey}' is not a valid SQLite connection string ({ex.Message}). " +
                $"Use for example \"{DefaultConnectionString}\".", ex);
        }

        if (string.IsNullOrWhiteSpace(builder.DataSource))
            throw new DatabaseStartupException(
                $"The setting '{ConnectionStringKey}' names no database file (\"Data Source\" is empty). " +
                $"Use for example \"{DefaultConnectionString}\".");

        // Each connection to an in-memory database gets its own empty one: the migrations would be gone after start-up.
        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource == ":memory:")
            throw new DatabaseStartupException(
                $"The setting '{ConnectionStringKey}' names an in-memory database, which would lose everything between requests. " +
                $"Name a file, for example \"{DefaultConnectionString}\".");

        var path = Path.GetFullPath(builder.DataSource, contentRoot);
        builder.DataSource = path;
        if (builder.Mode == SqliteOpenMode.ReadWriteCreate) builder.Mode = SqliteOpenMode.ReadWrite;
        return new DatabaseOptions { ConnectionString = builder.ToString(), FilePath = path };
    }
}

/// <summary>The database cannot be used; start-up stops with this message, and the file is left as it was.</summary>
public sealed class DatabaseStartupException(string message, Exception? inner = null) : Exception(message, inner);
