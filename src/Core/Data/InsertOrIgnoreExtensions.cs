using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using SQLitePCL;

namespace SelfTaught.Core.Data;

/// <summary>Batched inserts that skip rows hitting a unique key instead of failing the batch.</summary>
public static class InsertOrIgnoreExtensions
{
    /// <summary>
    /// Inserts <paramref name="rows"/> with <c>INSERT ... ON CONFLICT DO NOTHING</c> (valid in SQLite and PostgreSQL)
    /// in one transaction. Rows that would violate a unique key are skipped, so a chunk that runs twice neither fails
    /// nor duplicates. Generated keys are not read back.
    /// </summary>
    /// <returns>The number of rows actually inserted.</returns>
    public static async Task<int> InsertOrIgnoreAsync<T>(this DbContext db, IReadOnlyCollection<T> rows, CancellationToken cancellationToken = default)
        where T : class
    {
        if (rows.Count == 0) return 0;

        var entityType = db.Model.FindEntityType(typeof(T))
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not an entity of {db.GetType().Name}.");
        var table = StoreObjectIdentifier.Table(entityType.GetTableName()!, entityType.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        var columns = entityType.GetProperties()
            .Where(p => !(p.IsPrimaryKey() && p.ValueGenerated == ValueGenerated.OnAdd))
            .ToList();

        await db.Database.OpenConnectionAsync(cancellationToken);
        var ownsTransaction = db.Database.CurrentTransaction is null;
        var transaction = db.Database.CurrentTransaction ?? await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            var getters = columns.Select(c => c.GetGetter()).ToArray();
            var converters = columns.Select(c => c.GetTypeMapping().Converter).ToArray();
            var columnList = string.Join(", ", columns.Select(p => sql.DelimitIdentifier(p.GetColumnName(table)!)));
            var insert = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({columnList}) VALUES ({{0}}) ON CONFLICT DO NOTHING";
            var connection = db.Database.GetDbConnection();
            int inserted;
            if (connection is SqliteConnection sqlite && columns.All(c => SqliteRawBinder.Supports(c)))
            {
                inserted = SqliteRawBinder.Insert(sqlite, string.Format(CultureInfo.InvariantCulture, insert,
                    string.Join(", ", columns.Select((_, i) => "?" + (i + 1).ToString(CultureInfo.InvariantCulture)))),
                    rows, getters, converters, cancellationToken);
            }
            else
            {
                // One single-row statement, prepared once and re-executed: SQLite binds parameters by a linear name
                // lookup, so multi-row statements with thousands of parameters are slower than this, not faster.
                await using var command = connection.CreateCommand();
                command.Transaction = transaction.GetDbTransaction();
                var parameters = new DbParameter[columns.Count];
                var names = new string[columns.Count];
                for (var c = 0; c < columns.Count; c++)
                {
                    names[c] = "@p" + c.ToString(CultureInfo.InvariantCulture);
                    // The type mapping applies the property's value converter (enums are stored as names).
                    parameters[c] = columns[c].GetRelationalTypeMapping().CreateParameter(command, names[c], null, nullable: true);
                    command.Parameters.Add(parameters[c]);
                }
                command.CommandText = string.Format(CultureInfo.InvariantCulture, insert, string.Join(", ", names));
                await command.PrepareAsync(cancellationToken);

                inserted = 0;
                foreach (var row in rows)
                {
                    for (var c = 0; c < getters.Length; c++)
                        parameters[c].Value = ProviderValue(row, getters[c], converters[c]) ?? DBNull.Value;
                    inserted += await command.ExecuteNonQueryAsync(cancellationToken);
                }
            }
            if (ownsTransaction) await transaction.CommitAsync(cancellationToken);
            return inserted;
        }
        finally
        {
            if (ownsTransaction) await transaction.DisposeAsync();
            await db.Database.CloseConnectionAsync();
        }
    }

    private static object? ProviderValue(object row, IClrPropertyGetter getter, ValueConverter? converter)
    {
        var value = getter.GetClrValue(row);
        return value is null ? null : converter is null ? value : converter.ConvertToProvider(value);
    }

    /// <summary>
    /// Inserts through SQLite's own API on the connection EF Core opened (so inside its transaction): one statement
    /// prepared once, parameters bound by position. Microsoft.Data.Sqlite re-binds every parameter by name and builds a
    /// data reader on each execution, which cost an import about a third of its time (bench/Import.Bench). Values are
    /// stored exactly as Microsoft.Data.Sqlite stores them; a column of any other type uses the ADO.NET path.
    /// </summary>
    private static class SqliteRawBinder
    {
        private const int SqliteDone = 101;

        public static bool Supports(IProperty column)
        {
            var type = column.GetTypeMapping().Converter?.ProviderClrType ?? column.ClrType;
            type = Nullable.GetUnderlyingType(type) ?? type;
            return type == typeof(string) || type == typeof(long) || type == typeof(int) || type == typeof(short)
                || type == typeof(byte) || type == typeof(bool) || type == typeof(double) || type == typeof(float)
                || type == typeof(char) || type == typeof(DateTime) || type == typeof(byte[]);
        }

        public static int Insert<T>(SqliteConnection connection, string commandText, IEnumerable<T> rows,
            IClrPropertyGetter[] getters, ValueConverter?[] converters, CancellationToken cancellationToken)
            where T : class
        {
            var handle = connection.Handle ?? throw new InvalidOperationException("The SQLite connection is not open.");
            Check(handle, raw.sqlite3_prepare_v2(handle, commandText, out var statement));
            using (statement)
            {
                var inserted = 0;
                var buffer = new byte[1024];
                // Bindings survive sqlite3_reset, and parameters start out NULL: a column that stays NULL (most
                // analysis columns during an import) is not bound again, which saves a native call per value.
                var boundNull = new bool[getters.Length];
                Array.Fill(boundNull, true);
                foreach (var row in rows)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    for (var c = 0; c < getters.Length; c++)
                    {
                        var value = ProviderValue(row, getters[c], converters[c]);
                        if (value is null && boundNull[c]) continue;
                        Check(handle, Bind(statement, c + 1, value, ref buffer));
                        boundNull[c] = value is null;
                    }
                    var result = raw.sqlite3_step(statement);
                    raw.sqlite3_reset(statement);
                    if (result != SqliteDone) Check(handle, result);
                    inserted += raw.sqlite3_changes(handle);
                }
                return inserted;
            }
        }

        private static int Bind(sqlite3_stmt statement, int index, object? value, ref byte[] buffer) => value switch
        {
            null => raw.sqlite3_bind_null(statement, index),
            string text => BindText(statement, index, text, ref buffer),
            long number => raw.sqlite3_bind_int64(statement, index, number),
            int number => raw.sqlite3_bind_int64(statement, index, number),
            short number => raw.sqlite3_bind_int64(statement, index, number),
            byte number => raw.sqlite3_bind_int64(statement, index, number),
            bool flag => raw.sqlite3_bind_int64(statement, index, flag ? 1 : 0),
            double real => raw.sqlite3_bind_double(statement, index, real),
            float real => raw.sqlite3_bind_double(statement, index, real),
            // Microsoft.Data.Sqlite stores a char in a TEXT column as a one-character string, and DateTime in this format.
            char letter => raw.sqlite3_bind_text(statement, index, letter.ToString()),
            DateTime time => raw.sqlite3_bind_text(statement, index, time.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture)),
            byte[] blob => raw.sqlite3_bind_blob(statement, index, blob),
            _ => throw new NotSupportedException($"Values of type {value.GetType().Name} are not bound by the SQLite fast path."),
        };

        /// <summary>Binds UTF-8 encoded into a reused buffer (SQLite copies it), instead of a new array per value.</summary>
        private static int BindText(sqlite3_stmt statement, int index, string text, ref byte[] buffer)
        {
            // An empty span would reach SQLite as a null pointer, which binds NULL rather than ''.
            if (text.Length == 0) return raw.sqlite3_bind_text(statement, index, string.Empty);
            var length = Encoding.UTF8.GetMaxByteCount(text.Length);
            if (length > buffer.Length) buffer = new byte[Math.Max(length, buffer.Length * 2)];
            var written = Encoding.UTF8.GetBytes(text, buffer);
            return raw.sqlite3_bind_text(statement, index, buffer.AsSpan(0, written));
        }

        private static void Check(sqlite3 handle, int result)
        {
            if (result != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(result, handle);
        }
    }
}
