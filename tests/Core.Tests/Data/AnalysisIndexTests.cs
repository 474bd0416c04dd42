using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Tests.Data;

/// <summary>
/// The analysis indexes on Instructions are partial (imported rows, not yet analyzed, enter none of them), so the
/// queries over analysis results must still be answered from them rather than by scanning the table.
/// </summary>
public class AnalysisIndexTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("SELECT Category, COUNT(*) FROM Instructions WHERE DatasetId = $d AND Category IS NOT NULL GROUP BY Category", "IX_Instructions_DatasetId_Category_Complexity")]
    [InlineData("SELECT Complexity, COUNT(*) FROM Instructions WHERE DatasetId = $d AND Complexity IS NOT NULL GROUP BY Complexity", "IX_Instructions_DatasetId_Complexity")]
    [InlineData("SELECT LengthBucket, COUNT(*) FROM Instructions WHERE DatasetId = $d AND LengthBucket IS NOT NULL GROUP BY LengthBucket", "IX_Instructions_DatasetId_LengthBucket")]
    [InlineData("SELECT Id FROM Instructions WHERE DatasetId = $d AND Category = 'coding' AND Complexity >= 3", "IX_Instructions_DatasetId_Category_Complexity")]
    [InlineData("SELECT Id FROM Instructions WHERE DatasetId = $d AND Complexity >= 3 AND Complexity <= 7", "IX_Instructions_DatasetId_Complexity")]
    [InlineData("SELECT Id FROM Instructions WHERE AnalysisTemplateId = $d", "IX_Instructions_AnalysisTemplateId")]
    public async Task AnalysisQueries_UseThePartialIndexes(string query, string index)
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        await using var db = temp.Create();
        var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        for (var i = 0; i < 20; i++)
            db.Instructions.Add(new Instruction
            {
                Dataset = dataset, RowIndex = i, Text = $"prompt {i}",
                Category = i % 2 == 0 ? "coding" : null, Complexity = i % 2 == 0 ? i % 10 + 1 : null, LengthBucket = i % 2 == 0 ? 'b' : null,
            });
        await db.SaveChangesAsync(Ct);
        await db.Database.ExecuteSqlRawAsync("ANALYZE", Ct);

        var connection = (SqliteConnection)db.Database.GetDbConnection();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + query;
        command.Parameters.AddWithValue("$d", dataset.Id);
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(Ct))
            while (await reader.ReadAsync(Ct)) plan.Add(reader.GetString(3));

        Assert.Contains(plan, step => step.Contains(index, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnalysisIndexes_ArePartial_SoAnImportMaintainsOnlyTheRowKey()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        await using var db = temp.Create();

        var indexes = await db.Database.SqlQueryRaw<IndexRow>("SELECT name AS Name, \"unique\" AS IsUnique, partial AS IsPartial FROM pragma_index_list('Instructions')")
            .ToListAsync(Ct);

        // Every index a new (unanalyzed) row enters: the row key only.
        var full = indexes.Where(i => i.IsPartial == 0).Select(i => i.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["IX_Instructions_DatasetId_RowIndex"], full);
        Assert.Equal(
            ["IX_Instructions_AnalysisTemplateId", "IX_Instructions_DatasetId_Category_Complexity", "IX_Instructions_DatasetId_Complexity", "IX_Instructions_DatasetId_LengthBucket"],
            indexes.Where(i => i.IsPartial == 1).Select(i => i.Name).Order(StringComparer.Ordinal).ToList());
    }

    private sealed record IndexRow(string Name, long IsUnique, long IsPartial);
}
