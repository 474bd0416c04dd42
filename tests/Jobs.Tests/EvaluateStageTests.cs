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
}
