using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace SelfTaught.Core.Data;

/// <summary>How the app's SQLite connections are configured: the one place hosts, tools and benchmarks call.</summary>
public static class SqliteConnectionSetup
{
    /// <summary>
    /// Uses SQLite at <paramref name="connectionString"/> with the app's per-connection settings:
    /// <c>PRAGMA synchronous=NORMAL</c> on every opened connection. With the database in WAL mode (set at start-up)
    /// this is SQLite's recommended setting: a commit no longer waits for the disk, the file cannot be corrupted by a
    /// crash, and only the last commits before a power loss can roll back — which stage runs and imports redo.
    /// </summary>
    public static DbContextOptionsBuilder UseSelfTaughtSqlite(this DbContextOptionsBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseSqlite(connectionString).AddInterceptors(SynchronousNormal.Instance);
    }

    /// <inheritdoc cref="UseSelfTaughtSqlite(DbContextOptionsBuilder, string)"/>
    public static DbContextOptionsBuilder<TContext> UseSelfTaughtSqlite<TContext>(this DbContextOptionsBuilder<TContext> builder, string connectionString)
        where TContext : DbContext =>
        (DbContextOptionsBuilder<TContext>)UseSelfTaughtSqlite((DbContextOptionsBuilder)builder, connectionString);

    private sealed class SynchronousNormal : DbConnectionInterceptor
    {
        public static readonly SynchronousNormal Instance = new();

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Apply(connection);
            return Task.CompletedTask;
        }

        private static void Apply(DbConnection connection)
        {
            if (connection is not SqliteConnection) return;
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous=NORMAL";
            command.ExecuteNonQuery();
        }
    }
}
