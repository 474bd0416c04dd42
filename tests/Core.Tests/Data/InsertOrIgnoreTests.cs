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
