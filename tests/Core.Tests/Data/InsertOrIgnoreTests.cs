using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Tests.Data;

public class InsertOrIgnoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task InsertOrIgnoreAsync_SkipsRowsHittingTheUniqueKey_AndKeepsTheFirstWrite()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        var (iterationId, pairId, annotationId) = await SeedAnnotation(temp);

        await using var db = temp.Create();
        var first = await db.InsertOrIgnoreAsync(Samples(iterationId, pairId, annotationId, 0..10, "first"), Ct);
        // A rerun of the same chunk overlapping the first: 5 already stored, 5 new.
        var second = await db.InsertOrIgnoreAsync(Samples(iterationId, pairId, annotationId, 5..15, "rerun"), Ct);

        Assert.Equal(10, first);
        Assert.Equal(5, second);
        var stored = await db.JudgmentSamples.AsNoTracking().OrderBy(s => s.SampleIndex).ToListAsync(Ct);
        Assert.Equal(Enumerable.Range(0, 15), stored.Select(s => s.SampleIndex));
        Assert.All(stored.Take(10), s => Assert.Equal("first", s.RawCompletion));
        Assert.All(stored.Skip(10), s => Assert.Equal("rerun", s.RawCompletion));
    }

    [Fact]
    public async Task InsertOrIgnoreAsync_StoresConvertedValues_AsEfCoreReadsThem()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        var (iterationId, pairId, annotationId) = await SeedAnnotation(temp);
        var at = new DateTime(2026, 11, 23, 8, 9, 10, DateTimeKind.Utc).AddTicks(1234567);
        var row = new JudgmentSample
        {
            IterationId = iterationId, PairId = pairId, AnnotationId = annotationId, SampleIndex = 3,
            RawCompletion = "Assistant’s answer is better. [[B]]", Verdict = Verdict.B, Correct = false,
            Temperature = 0.7, TopP = 0.9, MaxTokens = 4096, RequestSeed = long.MaxValue - 1, ChoiceIndex = 2,
            PromptTokens = null, CompletionTokens = 321, LatencyMs = 1500, FinishReason = "stop", CreatedAt = at,
        };

        await using (var db = temp.Create())
            Assert.Equal(1, await db.InsertOrIgnoreAsync([row], Ct));

        await using var read = temp.Create();
        var back = await read.JudgmentSamples.AsNoTracking().SingleAsync(s => s.Verdict == Verdict.B, Ct);
        Assert.Equal(row.RawCompletion, back.RawCompletion);
        Assert.False(back.Correct);
        Assert.Equal(long.MaxValue - 1, back.RequestSeed);
        Assert.Null(back.PromptTokens);
        Assert.Equal(at.Ticks, back.CreatedAt.Ticks);
        var rawVerdict = await read.Database.SqlQueryRaw<string>("SELECT \"Verdict\" AS \"Value\" FROM \"JudgmentSamples\"").SingleAsync(Ct);
        Assert.Equal("B", rawVerdict);
    }

    [Fact]
    public async Task InsertOrIgnoreAsync_HandlesBatchesLargerThanOneStatement()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        await using var db = temp.Create();
        var dataset = new Dataset { Name = "big", Role = DatasetRole.InstructionPool, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Ct);
        var rows = Enumerable.Range(0, 5000).Select(i => new Instruction
        {
            DatasetId = dataset.Id, RowIndex = i, Text = $"prompt {i}", LengthBucket = "abcde"[i % 5], Complexity = i % 10 + 1,
        }).ToList();

        var inserted = await db.InsertOrIgnoreAsync(rows, Ct);
        var again = await db.InsertOrIgnoreAsync(rows, Ct);

        Assert.Equal(5000, inserted);
        Assert.Equal(0, again);
        Assert.Equal(5000, await db.Instructions.CountAsync(Ct));
        Assert.Equal(1000, await db.Instructions.CountAsync(i => i.LengthBucket == 'c', Ct));
    }

    [Fact]
    public async Task InsertOrIgnoreAsync_StoresEveryColumnExactlyAsSaveChanges()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        var (iterationId, pairId, annotationId) = await SeedAnnotation(temp);
        JudgmentSample Make(int index) => new()
        {
            IterationId = iterationId, PairId = pairId, AnnotationId = annotationId, SampleIndex = index,
            RawCompletion = "", Verdict = Verdict.B, Correct = true, Temperature = 0.1 + 0.2, TopP = 1e-300, MaxTokens = 4096,
            RequestSeed = long.MinValue, ChoiceIndex = 0, PromptTokens = 12, CompletionTokens = null, LatencyMs = 0, FinishReason = "stöp ✓ 𝄞",
            CreatedAt = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(10),
        };
        await using (var db = temp.Create())
        {
            db.JudgmentSamples.Add(Make(0));
            await db.SaveChangesAsync(Ct);
            Assert.Equal(1, await db.InsertOrIgnoreAsync([Make(1)], Ct));
        }

        // Compare the stored values and their SQLite storage classes column by column.
        await using var read = temp.Create();
        var connection = read.Database.GetDbConnection();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM \"JudgmentSamples\" ORDER BY \"SampleIndex\"";
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<object[]>();
        while (await reader.ReadAsync(Ct))
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows.Add(values);
        }
        Assert.Equal(2, rows.Count);
        for (var c = 0; c < reader.FieldCount; c++)
        {
            var name = reader.GetName(c);
            if (name is "Id" or "SampleIndex") continue;
            Assert.True(Equals(rows[0][c], rows[1][c]), $"{name}: SaveChanges stored '{rows[0][c]}' ({rows[0][c].GetType().Name}), InsertOrIgnoreAsync '{rows[1][c]}' ({rows[1][c].GetType().Name})");
        }
    }

    [Fact]
    public async Task InsertOrIgnoreAsync_BindsEachRowsOwnValues_WhenColumnsAlternateBetweenNullAndValues()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        await using var db = temp.Create();
        var dataset = new Dataset { Name = "mixed", Role = DatasetRole.InstructionPool, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Ct);
        var rows = Enumerable.Range(0, 12).Select(i => new Instruction
        {
            DatasetId = dataset.Id, RowIndex = i, Text = i % 4 == 3 ? "" : $"prompt {i}",
            Category = i % 3 == 0 ? null : $"c{i}", Complexity = i % 2 == 0 ? null : i, LengthBucket = i % 5 == 0 ? 'a' : null,
            SourceId = i < 6 ? null : $"s{i}",
        }).ToList();

        Assert.Equal(12, await db.InsertOrIgnoreAsync(rows, Ct));

        var stored = await db.Instructions.AsNoTracking().OrderBy(i => i.RowIndex).ToListAsync(Ct);
        Assert.Equal(rows.Select(r => (r.Text, r.Category, r.Complexity, r.LengthBucket, r.SourceId)),
            stored.Select(r => (r.Text, r.Category, r.Complexity, r.LengthBucket, r.SourceId)));
        Assert.Equal(3, await db.Database.SqlQueryRaw<int>("SELECT COUNT(*) AS \"Value\" FROM \"Instructions\" WHERE \"Text\" = ''").SingleAsync(Ct));
    }

    [Fact]
    public async Task InsertOrIgnoreAsync_FailsTheWholeBatch_OnAnErrorOtherThanAConflict()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        await using var db = temp.Create();
        var rows = Enumerable.Range(0, 5).Select(i => new Instruction { DatasetId = 999, RowIndex = i, Text = $"p{i}" }).ToList();

        var ex = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => db.InsertOrIgnoreAsync(rows, Ct));

        Assert.Contains("FOREIGN KEY", ex.Message);
        Assert.Equal(0, await db.Instructions.CountAsync(Ct));
    }

    [Fact]
    public async Task Connections_UseSynchronousNormal()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        await using var db = temp.Create();

        await db.Database.OpenConnectionAsync(Ct);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA synchronous";

        // 1 = NORMAL (2 = FULL, SQLite's default).
        Assert.Equal(1L, await command.ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task SaveChanges_RejectsADuplicateSample_BecauseTheKeyIsInTheDatabase()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        var (iterationId, pairId, annotationId) = await SeedAnnotation(temp);
        await using var db = temp.Create();
        db.JudgmentSamples.AddRange(Samples(iterationId, pairId, annotationId, 0..1, "a"));
        db.JudgmentSamples.AddRange(Samples(iterationId, pairId, annotationId, 0..1, "b"));

        var ex = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync(Ct));

        Assert.Contains("UNIQUE constraint failed", ex.InnerException?.Message);
    }

    [Fact]
    public async Task SaveChanges_RejectsASecondChosenModel_InOneIteration()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        var (iterationId, _, _) = await SeedAnnotation(temp);
        await using var db = temp.Create();
        db.CandidateModels.Add(new() { IterationId = iterationId, Name = "step-100", Model = "judge:100", IsChosen = true });
        db.CandidateModels.Add(new() { IterationId = iterationId, Name = "step-200", Model = "judge:200", IsChosen = false });
        await db.SaveChangesAsync(Ct);
        db.CandidateModels.Add(new() { IterationId = iterationId, Name = "step-300", Model = "judge:300", IsChosen = true });

        await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync(Ct));
    }

    private static List<JudgmentSample> Samples(long iterationId, long pairId, long annotationId, Range indexes, string text) =>
        Enumerable.Range(indexes.Start.Value, indexes.End.Value - indexes.Start.Value).Select(i => new JudgmentSample
        {
            IterationId = iterationId, PairId = pairId, AnnotationId = annotationId, SampleIndex = i, RawCompletion = text,
            Verdict = Verdict.A, Correct = true, Temperature = 0.7, TopP = 0.9, MaxTokens = 4096, RequestSeed = i, CreatedAt = DateTime.UtcNow,
        }).ToList();

    private static async Task<(long IterationId, long PairId, long AnnotationId)> SeedAnnotation(TempDatabase temp)
    {
        await using var db = temp.Create();
        var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, CreatedAt = DateTime.UtcNow };
        var experiment = new Experiment { Name = "e", InstructionDataset = dataset, SeedModel = "s", GeneratorModel = "g", JudgeModel = "j" };
        var pair = new Pair { Experiment = experiment, Prompt = "x", Chosen = "good", Rejected = "bad", Status = PairStatus.Ready };
        var iteration = new Iteration { Experiment = experiment, Number = 1, JudgeModel = "j" };
        var annotation = new Annotation { Iteration = iteration, Pair = pair, JudgePrompt = "judge this", ChosenPosition = Position.A, Gold = Position.A };
        db.Annotations.Add(annotation);
        await db.SaveChangesAsync(Ct);
        return (iteration.Id, pair.Id, annotation.Id);
    }
}
