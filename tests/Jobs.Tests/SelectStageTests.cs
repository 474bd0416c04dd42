using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Stages;
using SelfTaught.SimBackend;

namespace SelfTaught.Jobs.Tests;

/// <summary>The experiment <c>select</c> stage on the real engine and Hangfire's in-memory queue.</summary>
[Collection(HangfireHostCollection.Name)]
public sealed class SelectStageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly string[] Categories = ["Coding", "Math", "Creative writing"];
    private const string GsmPrompt = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?";

    [Fact]
    public async Task Select_FiltersDrawsAndChecksContamination_AsAnIndependentComputationSays()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (pool, experimentId) = await SeedAsync(host, seed: 99);
        var settings = new SelectionSettings { Categories = ["coding", "MATH"], ComplexityMin = 4, LengthBuckets = ['b', 'c', 'd'], MaxCount = 40 };

        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();
        var preview = await stages.PreviewSelectAsync(experimentId, settings, Ct);
        var run = await stages.StartSelectAsync(experimentId, settings, replace: false, Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        await using var db = host.Db();
        var instructions = await db.Instructions.AsNoTracking().Where(i => i.DatasetId == pool).ToListAsync(Ct);
        var matching = instructions.Where(i => i.Category is "Coding" or "Math" && i.Complexity >= 4 && i.LengthBucket is 'b' or 'c' or 'd').ToList();
        var expected = matching.OrderBy(i => Seeds.Derive(99, SeedStreams.Selection, i.RowIndex)).ThenBy(i => i.RowIndex).Take(40).Select(i => i.Id).Order().ToList();
        var stored = await db.ExperimentInstructions.AsNoTracking().Where(e => e.ExperimentId == experimentId).OrderBy(e => e.InstructionId).ToListAsync(Ct);

        Assert.Equal(StageStatus.Completed, finished.Status);
        Assert.True(matching.Count > 40, $"the pool must offer more than the cap, offered {matching.Count}");
        Assert.Equal((200, 200, matching.Count, 40, 1, 2), (preview.PoolSize, preview.Analyzed, preview.Matching, preview.Selected, preview.BenchmarkDatasets, preview.BenchmarkPrompts));
        Assert.Equal(expected, stored.Select(s => s.InstructionId));
        Assert.Equal(40, finished.Done);
        // Contamination, computed here from the seeded texts: rows 3, 13, 23, ... copy the GSM8K prompt, rows 7, 17, ... embed 13 of its words.
        var text = instructions.ToDictionary(i => i.Id, i => i.Text);
        foreach (var row in stored)
        {
            var expectedKind = text[row.InstructionId] == GsmPrompt.ToUpperInvariant() ? ContaminationKind.ExactMatch
                : text[row.InstructionId].Contains("she sold half as many clips in May. How many clips did Natalia sell", StringComparison.Ordinal) ? ContaminationKind.NGramOverlap
                : ContaminationKind.None;
            Assert.Equal(expectedKind, row.Contamination);
            Assert.Equal(expectedKind != ContaminationKind.None, row.Excluded);
            Assert.Equal(expectedKind == ContaminationKind.None ? null : "gsm8k test / main / q1", row.ContaminationMatch);
        }
        Assert.Contains(stored, s => s.Contamination == ContaminationKind.ExactMatch);
        Assert.Contains(stored, s => s.Contamination == ContaminationKind.NGramOverlap);
    }

    [Fact]
    public async Task Select_WithTheSameSeed_PicksTheSameInstructions_AndAnotherSeedOthers()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (pool, first) = await SeedAsync(host, seed: 5);
        var twin = await AddExperimentAsync(host, pool, "twin", seed: 5);
        var other = await AddExperimentAsync(host, pool, "other", seed: 6);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();
        var settings = new SelectionSettings { MaxCount = 30 };

        foreach (var id in new[] { first, twin, other })
            await host.WaitForAsync((await stages.StartSelectAsync(id, settings, false, Ct)).Id, r => r.Status == StageStatus.Completed);

        await using var db = host.Db();
        async Task<List<long>> Selected(long id) => await db.ExperimentInstructions.Where(e => e.ExperimentId == id).OrderBy(e => e.InstructionId).Select(e => e.InstructionId).ToListAsync(Ct);
        Assert.Equal(await Selected(first), await Selected(twin));
        Assert.NotEqual(await Selected(first), await Selected(other));
        Assert.Equal(30, (await Selected(other)).Count);
    }

    [Fact]
    public async Task Select_Again_NeedsReplace_AndAnEmptySelectionCompletesWithNothing()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (_, experimentId) = await SeedAsync(host, seed: 1);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();
        await host.WaitForAsync((await stages.StartSelectAsync(experimentId, new SelectionSettings { MaxCount = 10 }, false, Ct)).Id, r => r.Status == StageStatus.Completed);

        var again = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartSelectAsync(experimentId, new SelectionSettings(), false, Ct));
        // A replace that is refused for another reason keeps the current selection.
        var notABenchmark = await Assert.ThrowsAsync<ExperimentStageException>(() =>
            stages.StartSelectAsync(experimentId, new SelectionSettings { BenchmarkDatasetIds = [999] }, replace: true, Ct));
        await using (var check = host.Db())
            Assert.Equal(10, await check.ExperimentInstructions.CountAsync(e => e.ExperimentId == experimentId, Ct));
        Assert.Contains("999 are not benchmark datasets", notABenchmark.Message);
        var invalid = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartSelectAsync(experimentId, new SelectionSettings { ComplexityMin = 8, ComplexityMax = 3 }, true, Ct));
        var empty = await stages.StartSelectAsync(experimentId, new SelectionSettings { Categories = ["Astrology"] }, replace: true, Ct);
        var finished = await host.WaitForAsync(empty.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        Assert.True(again.Conflict);
        Assert.Contains("already has a selection of 10 instructions", again.Message);
        Assert.Contains("complexityMin (8) is above complexityMax (3)", invalid.Message);
        Assert.Equal((StageStatus.Completed, 0), (finished.Status, finished.Total));
        await using var db = host.Db();
        Assert.Equal(0, await db.ExperimentInstructions.CountAsync(e => e.ExperimentId == experimentId, Ct));
    }

    private static async Task<(long Pool, long ExperimentId)> SeedAsync(StageHost host, long seed)
    {
        await using var db = host.Db();
        var pool = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = 200, CreatedAt = DateTime.UtcNow };
        var benchmark = new Dataset { Name = "gsm8k test", Role = DatasetRole.Benchmark, Status = DatasetStatus.Ready, RowCount = 2, CreatedAt = DateTime.UtcNow };
        db.Datasets.AddRange(pool, benchmark);
        await db.SaveChangesAsync(Ct);
        await db.InsertOrIgnoreAsync(Enumerable.Range(0, 200).Select(i => new Instruction
        {
            DatasetId = pool.Id, RowIndex = i,
            Text = i % 10 == 3 ? GsmPrompt.ToUpperInvariant()
                : i % 10 == 7 ? $"Case {i}: she sold half as many clips in May. How many clips did Natalia sell? Explain."
                : $"Instruction {i} about topic {i % 13}.",
            Category = Categories[i % 3], Complexity = i % 10 + 1, LengthBucket = "abcde"[i % 5], AnalyzedAt = DateTime.UtcNow,
        }).ToList(), Ct);
        await db.InsertOrIgnoreAsync(new List<LabeledPair>
        {
            new() { DatasetId = benchmark.Id, RowIndex = 0, Subset = "main", SourceId = "q1", Prompt = GsmPrompt, ResponseA = "72", ResponseB = "48" },
            new() { DatasetId = benchmark.Id, RowIndex = 1, Subset = "main", SourceId = "q2", Prompt = "What is 2 + 2?", ResponseA = "4", ResponseB = "5" },
        }, Ct);
        return (pool.Id, await AddExperimentAsync(host, pool.Id, "e", seed));
    }

    private static async Task<long> AddExperimentAsync(StageHost host, long pool, string name, long seed)
    {
        var experiments = new ExperimentService(host.Host.Services.GetRequiredService<IDbContextFactory<SelfTaughtDbContext>>(), TimeProvider.System);
        var experiment = await experiments.CreateAsync(new CreateExperimentRequest { Name = name, DatasetId = pool, SeedModel = new("sim-judge"), Seed = seed }, cancellationToken: Ct);
        return experiment.Id;
    }
}
