using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Evaluation;
using SelfTaught.Core.Import;
using SelfTaught.Core.Prompts;
using SelfTaught.Core.Stages;
using SelfTaught.SimBackend;

namespace SelfTaught.Jobs.Tests;

/// <summary>Evaluation runs as stage runs on the real engine, Hangfire, SimBackend and both real clients.</summary>
[Collection(HangfireHostCollection.Name)]
public sealed class EvaluateStageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static bool Finished(StageRun run) => run.Status is StageStatus.Completed or StageStatus.Failed or StageStatus.Cancelled;

    private static Task<StageHost> HostAsync(SimServer sim, string kind) => StageHost.StartAsync(sim, new()
    {
        ["Inference:Endpoints:0:Kind"] = kind,
        ["Inference:Endpoints:0:BaseUrl"] = kind == "Ollama" ? sim.BaseUri : sim.OpenAIBaseUri.ToString(),
        ["Inference:Endpoints:0:AcceptsN"] = kind == "Ollama" ? null : "true",
        ["Inference:Endpoints:0:MaxConcurrentRequests"] = "16",
    });

    /// <summary>Imports the first <paramref name="perSubset"/> rows of every subset of the shared RewardBench file (upstream columns).</summary>
    private static async Task<long> ImportRewardBenchAsync(StageHost host, int perSubset)
    {
        var rows = File.ReadLines(SharedData.File("rewardbench", "rewardbench_filtered.jsonl"))
            .GroupBy(line => JsonDocument.Parse(line).RootElement.GetProperty("subset").GetString())
            .SelectMany(g => g.Take(perSubset)).ToList();
        var path = Path.Combine(Path.GetTempPath(), $"selftaught-rb-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(path, rows, Ct);
        try
        {
            var import = await host.Host.Services.GetRequiredService<DatasetImporter>().ImportNewAsync(new ImportRequest
            {
                Name = "rewardbench", Source = new LocalFileSource(path), Preset = ImportPreset.RewardBench,
            }, cancellationToken: Ct);
            return import.DatasetId;
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("Ollama")]
    [InlineData("OpenAICompatible")]
    public async Task RewardBench_BothOrders_StoresEveryOutput_AndScoresWhatIsStored(string kind)
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { MalformedRate = 0.1, MaxRecordedRequests = 20_000 }, Ct);
        await using var host = await HostAsync(sim, kind);
        var datasetId = await ImportRewardBenchAsync(host, perSubset: 3);
        var service = host.Host.Services.GetRequiredService<EvaluationService>();

        var started = await service.StartAsync(new EvaluationRequest(BenchmarkKind.RewardBench, DatasetId: datasetId, Model: "sim-judge", Seeds: [11]), Ct);
        var finished = await host.WaitForAsync(started.StageRunId, Finished, 120);

        await using var db = host.Db();
        var run = await db.EvaluationRuns.AsNoTracking().SingleAsync(r => r.Id == started.EvaluationId, Ct);
        var results = await db.EvaluationResults.AsNoTracking().Where(r => r.EvaluationRunId == run.Id).ToListAsync(Ct);
        var rows = await db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == datasetId).ToDictionaryAsync(p => p.Id, Ct);
        var template = await db.PromptTemplates.AsNoTracking().SingleAsync(t => t.Id == run.TemplateId, Ct);

        Assert.Equal(StageStatus.Completed, finished.Status);
        Assert.Equal(StageStatus.Completed, run.Status);
        Assert.Equal(23 * 3, rows.Count);
        // Greedy by default, with the identity the server gave: Ollama's digest from /api/tags, or the served id.
        Assert.Equal((0.0, 1.0, 1, PositionMode.Both), (run.Temperature, run.TopP, run.Samples, run.PositionMode));
        Assert.False(string.IsNullOrEmpty(run.ModelDigest));
        if (kind == "Ollama") Assert.NotEqual("sim-judge", run.ModelDigest);
        else Assert.Equal("sim-judge", run.ModelDigest);
        Assert.Equal(PromptLibrary.JudgePairwise, template.Key);

        // Each example judged once in each order; every output stored with its raw text, lenient verdict and score.
        Assert.Equal(rows.Count * 2, results.Count);
        foreach (var row in rows.Values)
        {
            var own = results.Where(r => r.LabeledPairId == row.Id).OrderBy(r => r.ChosenPosition).ToList();
            Assert.Equal([Position.A, Position.B], own.Select(r => r.ChosenPosition));
            foreach (var result in own)
            {
                Assert.Equal($"{row.Subset}/{row.SourceId}", result.ExampleKey);
                var verdict = VerdictParser.ParseLenient(result.RawCompletion).Verdict;
                Assert.Equal(verdict, result.Verdict);
                Assert.Equal(verdict == Verdict.Invalid ? 0.5 : (verdict == Verdict.A) == (result.ChosenPosition == Position.A) ? 1 : 0, result.Score);
                Assert.Equal(EvaluationPlan.RequestSeed(11, result.ExampleKey, result.ChosenPosition, 0), result.RequestSeed);
            }
        }
        // The judge saw the chosen response in the stored position, in the Fig. 8 prompt.
        var judged = sim.Stats.ChatRequests.Where(r => r.Messages.Any(m => m.Content.Contains("impartial judge", StringComparison.Ordinal))).ToList();
        Assert.Equal(results.Count, judged.Count);
        var sample = results.First(r => r.ChosenPosition == Position.B);
        var sampleRow = rows[sample.LabeledPairId!.Value];
        var expectedPrompt = PromptText.Render(template.UserText, PromptValues.JudgePairwise(sampleRow.Prompt, sampleRow.ResponseB, sampleRow.ResponseA));
        Assert.Contains(judged, r => r.Seed == sample.RequestSeed && r.Messages.Any(m => m.Content == expectedPrompt));
        Assert.Equal(0.0, judged.Select(r => r.Temperature ?? -1).Distinct().Single());

        // The stored summary is the scoring of the stored rows: every subset present, Overall = mean of the sections.
        var summary = EvaluationSummaries.Read(run)!;
        Assert.Equal(
            JsonSerializer.Serialize(EvaluationScoring.Summarize(new EvaluationProtocol(BenchmarkKind.RewardBench, BootstrapSeed: 11),
                rows.Values.Select(r => new EvaluationExample($"{r.Subset}/{r.SourceId}", r.Subset, r.ResponseA.Length, r.ResponseB.Length)).ToList(),
                results.Select(r => new EvaluationOutcome(r.ExampleKey, r.ChosenPosition, 0, 0, r.Verdict))) with { Filtered = summary.Filtered }),
            JsonSerializer.Serialize(summary));
        Assert.Empty(summary.MissingSubsets);
        Assert.Equal(summary.Sections.Values.Average(), summary.Overall!.Value, 10);
        Assert.Equal(results.Count(r => r.Verdict == Verdict.Invalid), summary.Errors.ParseErrors);
        Assert.True(summary.Errors.ParseErrors > 0);
        Assert.NotNull(summary.Intervals.Overall);
        Assert.InRange(summary.Overall!.Value, summary.Intervals.Overall!.Low, summary.Intervals.Overall.High);
        Assert.Equal(rows.Count, summary.Judged);
    }

    [Fact]
    public async Task MajorityAtK_OnAnEndpointThatAcceptsN_AsksForKChoicesAtOnce_WithIndependentSeeds()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { MalformedRate = 0.2, MaxRecordedRequests = 20_000 }, Ct);
        await using var host = await HostAsync(sim, "OpenAICompatible");
        var datasetId = await ImportRewardBenchAsync(host, perSubset: 1);
        var service = host.Host.Services.GetRequiredService<EvaluationService>();

        var started = await service.StartAsync(new EvaluationRequest(BenchmarkKind.RewardBench, DatasetId: datasetId, Model: "sim-judge",
            PositionMode: PositionMode.Random, Samples: 5, Seeds: [3, 4]), Ct);
        Assert.Equal(StageStatus.Completed, (await host.WaitForAsync(started.StageRunId, Finished, 120)).Status);

        await using var db = host.Db();
        var run = await db.EvaluationRuns.AsNoTracking().SingleAsync(r => r.Id == started.EvaluationId, Ct);
        var results = await db.EvaluationResults.AsNoTracking().Where(r => r.EvaluationRunId == run.Id).ToListAsync(Ct);
        // maj@k samples at the paper's T 0.7 / top_p 0.9; one request of n = 5 per example, order and seed.
        Assert.Equal((0.7, 0.9), (run.Temperature, run.TopP));
        Assert.Equal(23 * 2 * 5, results.Count);
        var judged = sim.Stats.ChatRequests.Where(r => r.Messages.Any(m => m.Content.Contains("impartial judge", StringComparison.Ordinal))).ToList();
        Assert.Equal(23 * 2, judged.Count);
        Assert.All(judged, r => Assert.Equal(5, r.N));
        Assert.Equal(judged.Count, judged.Select(r => r.Seed).Distinct().Count());
        foreach (var group in results.GroupBy(r => (r.ExampleKey, Repeat: r.SampleIndex / 5)))
        {
            // Random position mode: one order per example and seed, the seeded coin's, stored with each output.
            var seed = group.Key.Repeat == 0 ? 3L : 4L;
            Assert.Equal(EvaluationPlan.Orders(PositionMode.Random, seed, group.Key.ExampleKey).Single(), group.Select(r => r.ChosenPosition).Distinct().Single());
            Assert.Equal([0, 1, 2, 3, 4], group.Select(r => r.ChoiceIndex).Order());
        }
        // Unresolved votes (a tie, or no parsable sample) are flagged and score 0.5.
        var summary = EvaluationSummaries.Read(run)!;
        var unresolved = results.GroupBy(r => (r.ExampleKey, r.SampleIndex / 5))
            .Count(g => EvaluationScoring.Majority(g.Select(r => r.Verdict!.Value)).Verdict is null);
        Assert.Equal(unresolved, summary.Errors.UnresolvedJudgments);
        Assert.Equal(23 * 2, summary.Judgments);
    }

    [Fact]
    public async Task Start_RefusesBadRequests_WithMessagesNamingTheProblem()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var datasetId = await ImportRewardBenchAsync(host, perSubset: 1);
        var service = host.Host.Services.GetRequiredService<EvaluationService>();

        var missing = await Assert.ThrowsAsync<EvaluationException>(() => service.StartAsync(new EvaluationRequest(BenchmarkKind.RewardBench, DatasetId: 999, Model: "sim-judge"), Ct));
        Assert.True(missing.NotFound);
        var noModel = await Assert.ThrowsAsync<EvaluationException>(() => service.StartAsync(new EvaluationRequest(BenchmarkKind.RewardBench, DatasetId: datasetId), Ct));
        Assert.Contains("model", noModel.Message, StringComparison.Ordinal);
        var unknownModel = await Assert.ThrowsAsync<EvaluationException>(() => service.StartAsync(new EvaluationRequest(BenchmarkKind.RewardBench, DatasetId: datasetId, Model: "nobody", Endpoint: "nowhere"), Ct));
        Assert.Contains("nowhere", unknownModel.Message, StringComparison.Ordinal);
        var greedyMajority = await Assert.ThrowsAsync<EvaluationException>(() => service.StartAsync(new EvaluationRequest(BenchmarkKind.RewardBench, DatasetId: datasetId, Model: "sim-judge", Samples: 3, Temperature: 0), Ct));
        Assert.Contains("temperature", greedyMajority.Message, StringComparison.Ordinal);
        var notMtBench = await Assert.ThrowsAsync<EvaluationException>(() => service.StartAsync(new EvaluationRequest(BenchmarkKind.MtBench, DatasetId: datasetId, Model: "sim-judge"), Ct));
        Assert.Contains("mtbench-human", notMtBench.Message, StringComparison.Ordinal);
        await using var db = host.Db();
        Assert.Equal(0, await db.EvaluationRuns.CountAsync(Ct));
    }

    [Fact]
    public async Task MtBench_OnTheRealVotes_Keeps1048ExpertNonTieTurn1Votes_JudgesEachInBothOrders_AndCountsParseErrorsAsDisagreement()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { MalformedRate = 0.05, MaxRecordedRequests = 5_000 }, Ct);
        await using var host = await HostAsync(sim, "Ollama");
        var import = await host.Host.Services.GetRequiredService<DatasetImporter>().ImportNewAsync(new ImportRequest
        {
            Name = "mt-bench human", Source = new LocalFileSource(SharedData.File("mt_bench_human", "human_judgments.jsonl")), Preset = ImportPreset.MtBenchHuman,
        }, cancellationToken: Ct);
        var service = host.Host.Services.GetRequiredService<EvaluationService>();

        var started = await service.StartAsync(new EvaluationRequest(BenchmarkKind.MtBench, DatasetId: import.DatasetId, Model: "sim-judge", Seeds: [9]), Ct);
        Assert.Equal(StageStatus.Completed, (await host.WaitForAsync(started.StageRunId, Finished, 300)).Status);

        await using var db = host.Db();
        var run = await db.EvaluationRuns.AsNoTracking().SingleAsync(r => r.Id == started.EvaluationId, Ct);
        var results = await db.EvaluationResults.AsNoTracking().Where(r => r.EvaluationRunId == run.Id).ToListAsync(Ct);
        var votes = await db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == import.DatasetId).ToDictionaryAsync(p => p.Id, Ct);
        var summary = EvaluationSummaries.Read(run)!;

        // The paper's protocol: turn 1, expert judges, non-tie votes; each vote one comparison, judged in both orders, greedy.
        Assert.Equal(1_689, votes.Count);
        Assert.Equal(1_048, summary.Examples);
        Assert.Equal(1_048 * 2, results.Count);
        Assert.Equal((0.0, 1.0), (run.Temperature, run.TopP));
        Assert.Equal(295, summary.Filtered[EvaluationSets.TieVotes]);
        Assert.Equal(346, summary.Filtered[EvaluationSets.OtherJudges]);
        Assert.All(results, r => Assert.StartsWith("expert", votes[r.LabeledPairId!.Value].Judge, StringComparison.Ordinal));
        // Agreement per order, and their mean; a parse error is a disagreement (score 0).
        double Agreement(IEnumerable<EvaluationResult> rs) => 100 * rs.Average(r => r.Verdict == Verdict.Invalid ? 0 : r.Score);
        var sourceOrder = results.Where(r => (r.ChosenPosition == Position.A) == (votes[r.LabeledPairId!.Value].Gold == GoldLabel.A)).ToList();
        var swapped = results.Except(sourceOrder).ToList();
        Assert.Equal((1_048, 1_048), (sourceOrder.Count, swapped.Count));
        Assert.Equal(Agreement(sourceOrder), summary.Accuracy.SourceOrder.Score!.Value, 10);
        Assert.Equal(Agreement(swapped), summary.Accuracy.Swapped.Score!.Value, 10);
        Assert.Equal(Agreement(results), summary.Overall!.Value, 10);
        Assert.Equal((summary.Accuracy.SourceOrder.Score!.Value + summary.Accuracy.Swapped.Score!.Value) / 2, summary.Overall!.Value, 10);
        Assert.Equal(results.Count(r => r.Verdict == Verdict.Invalid), summary.Errors.ParseErrors);
        Assert.True(summary.Errors.ParseErrors > 0);
        Assert.All(results.Where(r => r.Verdict == Verdict.Invalid), r => Assert.Equal(0, r.Score));
    }

    [Fact]
    public async Task HelpSteer2_AtThePaperSettings_AveragesThreeSeeds_DropsEqualScores_AndReportsBothOrdersAndConsistency()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { MaxRecordedRequests = 5_000 }, Ct);
        await using var host = await HostAsync(sim, "OpenAICompatible");
        long datasetId;
        await using (var db = host.Db())
        {
            var dataset = new Dataset { Name = "helpsteer2 validation", Role = DatasetRole.Benchmark, Status = DatasetStatus.Ready, Preset = "helpsteer2", CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(Ct);
            // 12 pairs: A's sum is higher in 5, B's in 4 and they are equal in 3; weighting turns pair 0 around (verbosity weighs −0.4).
            static string Scores(int h, int c, int v) => new SelfTaught.Core.Pairs.HelpSteer2Scores(h, c, 3, 2, v).ToJson();
            db.LabeledPairs.AddRange(Enumerable.Range(0, 12).Select(i => new LabeledPair
            {
                DatasetId = dataset.Id, RowIndex = 2 * i + 1, Prompt = $"Prompt {i}?", ResponseA = $"Answer one to {i}.", ResponseB = $"Answer two to {i}, longer.",
                AttributeScoresAJson = i == 0 ? Scores(2, 2, 4) : Scores(i < 5 ? 3 : 2, 2, 1),
                AttributeScoresBJson = i == 0 ? Scores(3, 3, 0) : Scores(i is >= 5 and < 9 ? 3 : 2, i < 5 ? 1 : 2, 1),
                Gold = GoldLabel.Tie,
            }));
            await db.SaveChangesAsync(Ct);
            datasetId = dataset.Id;
        }
        var service = host.Host.Services.GetRequiredService<EvaluationService>();

        var started = await service.StartAsync(new EvaluationRequest(BenchmarkKind.HelpSteer2, DatasetId: datasetId, Model: "sim-judge"), Ct);
        var weighted = await service.StartAsync(new EvaluationRequest(BenchmarkKind.HelpSteer2, DatasetId: datasetId, Model: "sim-judge",
            Temperature: 0, TopP: 1, Seeds: [1], Options: new EvaluationOptions(Weighted: true)), Ct);
        Assert.Equal(StageStatus.Completed, (await host.WaitForAsync(started.StageRunId, Finished, 120)).Status);
        Assert.Equal(StageStatus.Completed, (await host.WaitForAsync(weighted.StageRunId, Finished, 120)).Status);

        await using var read = host.Db();
        var run = await read.EvaluationRuns.AsNoTracking().SingleAsync(r => r.Id == started.EvaluationId, Ct);
        var results = await read.EvaluationResults.AsNoTracking().Where(r => r.EvaluationRunId == run.Id).ToListAsync(Ct);
        var summary = EvaluationSummaries.Read(run)!;
        var weightedSummary = EvaluationSummaries.Read(await read.EvaluationRuns.AsNoTracking().SingleAsync(r => r.Id == weighted.EvaluationId, Ct))!;

        // Paper settings by default: T 0.7, top_p 0.9, three seeds, both orders.
        Assert.Equal((0.7, 0.9, 3), (run.Temperature, run.TopP, EvaluationSummaries.SeedsOf(run).Count));
        Assert.Equal(9, summary.Examples);
        Assert.Equal(3, summary.Filtered[EvaluationSets.EqualScores]);
        Assert.Equal(9 * 2 * 3, results.Count);
        // Pair 0: the sum prefers A (13 vs 11), the weights prefer B (3.75 vs 6.8).
        Assert.Equal(9, weightedSummary.Examples);
        var bySum = await EvaluationSets.LoadAsync(read, run, null, null, Ct);
        var byWeight = await EvaluationSets.LoadAsync(read, await read.EvaluationRuns.AsNoTracking().SingleAsync(r => r.Id == weighted.EvaluationId, Ct), null, null, Ct);
        Assert.Equal((Position.A, Position.B), (bySum.Items[0].SourceChosenPosition, byWeight.Items[0].SourceChosenPosition));
        Assert.Equal(bySum.Items.Skip(1).Select(i => i.SourceChosenPosition), byWeight.Items.Skip(1).Select(i => i.SourceChosenPosition));
        // Better first, better second, their average, and position consistency, each over the three seeds.
        double Accuracy(IEnumerable<EvaluationResult> rs) => 100 * rs.Average(r => r.Score);
        Assert.Equal(Accuracy(results.Where(r => r.ChosenPosition == Position.A)), summary.Accuracy.BetterFirst.Score!.Value, 10);
        Assert.Equal(Accuracy(results.Where(r => r.ChosenPosition == Position.B)), summary.Accuracy.BetterSecond.Score!.Value, 10);
        Assert.Equal((summary.Accuracy.BetterFirst.Score!.Value + summary.Accuracy.BetterSecond.Score!.Value) / 2, summary.Accuracy.Average.Score!.Value, 10);
        var consistent = results.GroupBy(r => (r.ExampleKey, r.SampleIndex)).Select(g => g.All(r => r.Score == 1) ? 1.0 : 0.0).ToList();
        Assert.Equal(9 * 3, consistent.Count);
        Assert.Equal(100 * consistent.Average(), summary.Accuracy.PositionConsistent.Score!.Value, 10);
    }
}
