using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;
using SelfTaught.Core.Pairs;

namespace SelfTaught.Core.Tests.Import;

/// <summary>
/// The <c>helpsteer2</c> preset on a file generated here in HelpSteer2's published shape (the real data is not in
/// shared/data): consecutive rows answering one prompt become one labeled pair.
/// </summary>
public class HelpSteer2ImportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object Row(string prompt, string response, params object[] scores) => new
    {
        prompt, response,
        helpfulness = scores[0], correctness = scores[1], coherence = scores[2], complexity = scores[3], verbosity = scores[4],
    };

    [Fact]
    public async Task Import_PairsRows2kAnd2kPlus1_WithScoresAndGoldBySum_AndRejectsRowsWithoutAPartner()
    {
        // Batches of two rows: pairs are written by a streaming writer across many batches.
        using var h = await ImportHarness.CreateAsync(batchSize: 2);
        var path = h.WriteJsonLines("helpsteer2.jsonl.gz", [
            Row("P0", "a0", 4, 4, 4, 2, 1), Row("P0", "b0", 2, 2, 3, 2, 1),   // rows 0, 1: A better
            Row("P1", "a1", 1, 1, 2, 1, 1), Row("P1", "b1", 3, 3, 3, 1, 2),   // rows 2, 3: B better
            Row("P2", "a2", 3, 3, 3, 2, 2), Row("P2", "b2", 2, 4, 3, 3, 1),   // rows 4, 5: equal sums
            Row("Q", "lonely", 3, 3, 3, 3, 3),                                // row 6: its partner is missing
            Row("P3", "a3", 4, 4, 4, 1, 1), Row("P3", "b3", 0, 0, 1, 1, 4),   // rows 7, 8
            Row("P4", "a4", 3, 3, 3, 3, 3), Row("P4", "b4", "n/a", 3, 3, 3, 3), // rows 9, 10: the second row is unreadable
            Row("P5", "a5", 2, 2, 2, 2, 2), Row("P5", "b5", 2, 3, 2, 2, 2),   // rows 11, 12
            Row("P6", "last", 1, 1, 1, 1, 1),                                 // row 13: the file ends
        ]);

        var result = await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.HelpSteer2), cancellationToken: Ct);

        Assert.Equal((5, 4, 0), (result.RowCount, result.RejectedCount, result.DuplicateCount));
        Assert.Equal(14, result.Report!.RowsRead);
        var unpaired = Assert.Single(result.Report.Rejections, r => r.Reason == RejectionReasons.UnpairedRow);
        Assert.Equal(3, unpaired.Count);
        Assert.Equal([7L, 11L, 13L], unpaired.Examples.Select(e => e.RowIndex));
        Assert.Equal(["Q", "P4", "P6"], unpaired.Examples.Select(e => e.Preview));
        var invalid = Assert.Single(result.Report.Rejections, r => r.Reason == RejectionReasons.InvalidScore);
        Assert.Equal(10, Assert.Single(invalid.Examples).RowIndex);
        Assert.Contains("'helpfulness' is 'n/a', not a number", invalid.Examples[0].Detail, StringComparison.Ordinal);

        await using var db = h.Database.Create();
        var dataset = await db.Datasets.AsNoTracking().SingleAsync(Ct);
        Assert.Equal((DatasetRole.LabeledPairs, "helpsteer2"), (dataset.Role, dataset.Preset));
        var pairs = await db.LabeledPairs.AsNoTracking().OrderBy(p => p.RowIndex).ToListAsync(Ct);
        Assert.Equal(["P0", "P1", "P2", "P3", "P5"], pairs.Select(p => p.Prompt));
        Assert.Equal([1, 3, 5, 8, 12], pairs.Select(p => p.RowIndex));
        Assert.Equal([GoldLabel.A, GoldLabel.B, GoldLabel.Tie, GoldLabel.A, GoldLabel.B], pairs.Select(p => p.Gold));
        Assert.Equal(("a0", "b0"), (pairs[0].ResponseA, pairs[0].ResponseB));
        Assert.Equal(new HelpSteer2Scores(4, 4, 4, 2, 1), HelpSteer2Scores.FromJson(pairs[0].AttributeScoresAJson));
        Assert.Equal(new HelpSteer2Scores(2, 2, 3, 2, 1), HelpSteer2Scores.FromJson(pairs[0].AttributeScoresBJson));
        // Equal sums (13 and 13) but different weighted scores: the import's gold is by sum; mixing applies the weights.
        Assert.Equal(GoldLabel.B, HelpSteer2Scores.PreferByWeight(HelpSteer2Scores.FromJson(pairs[2].AttributeScoresAJson)!, HelpSteer2Scores.FromJson(pairs[2].AttributeScoresBJson)!));
    }

    [Fact]
    public async Task Import_OfTheValidationSplitsShape_Gives519Pairs_TiesExactlyWhereSumsAreEqual_AndStoresEveryScore()
    {
        // nvidia/HelpSteer2 validation.jsonl.gz is not in shared/data: a file of its shape (1,038 rows, columns in the
        // published order, integer scores 0–4), generated deterministically.
        var random = new Random(20_240_811);
        var scores = Enumerable.Range(0, 1038).Select(_ => Enumerable.Range(0, 5).Select(_ => random.Next(0, 5)).ToArray()).ToList();
        var rows = scores.Select((s, i) => Row($"Validation prompt {i / 2}: explain topic {i / 2} to a newcomer.", $"Response {i % 2} to prompt {i / 2}.", s.Cast<object>().ToArray()));
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteJsonLines("validation.jsonl.gz", rows);

        // Imported as the evaluation set it is: role Benchmark, so nothing is de-duplicated away.
        var result = await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.HelpSteer2) with { Role = DatasetRole.Benchmark }, cancellationToken: Ct);

        Assert.Equal((519, 0, 0), (result.RowCount, result.RejectedCount, result.DuplicateCount));
        Assert.Equal(1038, result.Report!.RowsRead);
        await using var db = h.Database.Create();
        Assert.Equal(DatasetRole.Benchmark, (await db.Datasets.SingleAsync(Ct)).Role);
        var pairs = await db.LabeledPairs.AsNoTracking().OrderBy(p => p.RowIndex).ToListAsync(Ct);
        Assert.Equal(Enumerable.Range(0, 519).Select(k => 2 * k + 1), pairs.Select(p => p.RowIndex));
        var expectedGold = Enumerable.Range(0, 519).Select(k => scores[2 * k].Sum().CompareTo(scores[2 * k + 1].Sum()) switch
        {
            > 0 => GoldLabel.A,
            < 0 => GoldLabel.B,
            _ => GoldLabel.Tie,
        }).ToList();
        Assert.Equal(expectedGold, pairs.Select(p => p.Gold));
        var ties = expectedGold.Count(g => g == GoldLabel.Tie);
        Assert.InRange(ties, 20, 100);  // the generated data does have equal sums (about 9% of pairs)
        Assert.All(pairs.Select((p, k) => (p, k)), x =>
        {
            Assert.Equal(scores[2 * x.k].Select(v => (double)v), HelpSteer2Scores.FromJson(x.p.AttributeScoresAJson)!.Values);
            Assert.Equal(scores[2 * x.k + 1].Select(v => (double)v), HelpSteer2Scores.FromJson(x.p.AttributeScoresBJson)!.Values);
            Assert.Equal(($"Response 0 to prompt {x.k}.", $"Response 1 to prompt {x.k}."), (x.p.ResponseA, x.p.ResponseB));
        });
    }

    [Fact]
    public async Task Import_NamesTheMissingScoreColumn()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteJsonLines("no-verbosity.jsonl", [new { prompt = "p", response = "r", helpfulness = 1, correctness = 1, coherence = 1, complexity = 1 }]);

        var error = await Assert.ThrowsAsync<ImportException>(() => h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.HelpSteer2), cancellationToken: Ct));

        Assert.Contains("no column 'verbosity', which preset 'helpsteer2' needs", error.Message, StringComparison.Ordinal);
        Assert.Equal(ImportPreset.HelpSteer2, ImportPresets.Parse("HelpSteer2"));
    }
}
