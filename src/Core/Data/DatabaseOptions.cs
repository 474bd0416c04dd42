using Microsoft.Data.Sqlite;

namespace SelfTaught.Core.Data;

/// <summary>Where the application database lives. Bound from <c>ConnectionStrings:SelfTaught</c>.</summary>
public sealed class DatabaseOptions
{
    /// <summary>Configuration key of the connection string.</summary>
    public const string ConnectionStringKey = "ConnectionStrings:SelfTaught";

    /// <summary>Used when the key is not set: a SQLite file in <c>data/</c> under the content root.</summary>
    public const string DefaultConnectionString = "Data Source=data/selftaught.db";

    /// <summary>The connection string with a relative data source resolved against the content root.</summary>
    public required string ConnectionString { get; init; }

    /// <summary>Full path of the SQLite file, or null for an in-memory database.</summary>
    public string? FilePath { get; init; }

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

        var inMemory = builder.Mode == SqliteOpenMode.Memory || builder.DataSource == ":memory:";
        string? path = null;
        if (!inMemory)
        {
            path = Path.GetFullPath(builder.DataSource, contentRoot);
            builder.DataSource = path;
        }
        return new DatabaseOptions { ConnectionString = builder.ToString(), FilePath = path };
    }
}

/// <summary>The database cannot be used; start-up stops with this message, and the file is left as it was.</summary>
public sealed class DatabaseStartupException(string message, Exception? inner = null) : Exception(message, inner);
