using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

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
            // One single-row statement, prepared once and re-executed: SQLite binds parameters by a linear name
            // lookup, so multi-row statements with thousands of parameters are slower than this, not faster.
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.Transaction = transaction.GetDbTransaction();
            var parameters = new DbParameter[columns.Count];
            var names = new string[columns.Count];
            for (var c = 0; c < columns.Count; c++)
            {
                names[c] = "@p" + c;
                // The type mapping applies the property's value converter (enums are stored as names).
                parameters[c] = columns[c].GetRelationalTypeMapping().CreateParameter(command, names[c], null, nullable: true);
                command.Parameters.Add(parameters[c]);
            }
            command.CommandText =
                $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} " +
                $"({string.Join(", ", columns.Select(p => sql.DelimitIdentifier(p.GetColumnName(table)!)))}) " +
                $"VALUES ({string.Join(", ", names)}) ON CONFLICT DO NOTHING";
            await command.PrepareAsync(cancellationToken);

            var inserted = 0;
            foreach (var row in rows)
            {
                for (var c = 0; c < columns.Count; c++)
                {
                    var value = columns[c].GetGetter().GetClrValue(row);
                    var converter = columns[c].GetTypeMapping().Converter;
                    parameters[c].Value = (value is null ? null : converter is null ? value : converter.ConvertToProvider(value)) ?? DBNull.Value;
                }
                inserted += await command.ExecuteNonQueryAsync(cancellationToken);
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
}
