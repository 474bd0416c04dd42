using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Import;
using SelfTaught.Core.Prompts;
using SelfTaught.Core.Stages;
using SelfTaught.Core.Training;
using SelfTaught.SimBackend;

namespace SelfTaught.Jobs.Tests;

/// <summary>
/// The whole self-taught loop on the real engine, Hangfire and SimBackend through each real client: import → analyze →
/// select → pairs → judge (N = 15) → balanced training set → exports, every count checked against the stored rows.
/// </summary>
[Collection(HangfireHostCollection.Name)]
public sealed class PipelineTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Ollama")]
    [InlineData("OpenAICompatible")]
    public async Task Pipeline_FromImportToExports_CountsMatchTheStoredRows_AndTheSameSeedGivesTheSameTrainingSet(string kind)
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = 0.6, MalformedRate = 0.05, MaxRecordedRequests = 20_000 }, Ct);
        var first = await RunPipelineAsync(sim, kind, seed: 2024);
        var second = await RunPipelineAsync(sim, kind, seed: 2024);

        // Same seed: the same selection, placements, samples and training files.
        Assert.Equal(first.Selection, second.Selection);
        Assert.Equal(first.Placements, second.Placements);
        Assert.Equal(first.SampleDigest, second.SampleDigest);
        Assert.Equal(first.FileHashes, second.FileHashes);
    }

    private sealed record PipelineResult(List<string> Selection, List<Position> Placements, string SampleDigest, Dictionary<string, string> FileHashes);

    private static async Task<PipelineResult> RunPipelineAsync(SimServer sim, string kind, long seed)
    {
        await using var host = await StageHost.StartAsync(sim, new()
        {
            ["Inference:Endpoints:0:Kind"] = kind,
            ["Inference:Endpoints:0:BaseUrl"] = kind == "Ollama" ? sim.BaseUri : sim.OpenAIBaseUri.ToString(),
            ["Inference:Endpoints:0:AcceptsN"] = kind == "Ollama" ? null : "true",
            ["Inference:Endpoints:0:MaxConcurrentRequests"] = "16",
        });
        var services = host.Host.Services;

        // Import 120 WildChat prompts, analyze them (Fig. 7), select 40.
        var data = Path.Combine(Path.GetTempPath(), $"selftaught-pipeline-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(data, File.ReadLines(SharedData.File("wildchat", "wildchat_1k_noveltybench.jsonl")).Take(120), Ct);
        var import = await services.GetRequiredService<DatasetImporter>().ImportNewAsync(new ImportRequest
        {
            Name = "wildchat", Source = new LocalFileSource(data), Preset = ImportPreset.Instructions,
        }, cancellationToken: Ct);
        File.Delete(data);
        var analysis = await host.Engine.CreateAsync(StageKind.Categorize, new InstructionAnalysisSettings("sim-generator"), datasetId: import.DatasetId, cancellationToken: Ct);
        Assert.Equal(StageStatus.Completed, (await host.WaitForAsync(analysis.Id, Finished, 120)).Status);
        var experiment = await services.GetRequiredService<ExperimentService>().CreateAsync(new CreateExperimentRequest
        {
            Name = "pipeline", DatasetId = import.DatasetId, SeedModel = new("sim-judge"), GeneratorModel = new("sim-generator"), Seed = seed,
        }, cancellationToken: Ct);
        var stages = services.GetRequiredService<ExperimentStages>();
        var select = await stages.StartSelectAsync(experiment.Id, new SelectionSettings { MaxCount = 40 }, replace: false, Ct);
        Assert.Equal(StageStatus.Completed, (await host.WaitForAsync(select.Id, Finished, 120)).Status);

        // Pairs (Fig. 2), judged with N = 15 (Fig. 8), then the training set.
        var pairs = await stages.StartGeneratePairsAsync(experiment.Id, new GeneratePairsRequest(), Ct);
        Assert.Equal(StageStatus.Completed, (await host.WaitForAsync(pairs.Id, Finished, 180)).Status);
        var iterations = services.GetRequiredService<IterationService>();
        var judge = await iterations.StartJudgeAsync(experiment.Id, 1, new JudgeOverrides(Samples: 15), Ct);
        Assert.Equal(StageStatus.Completed, (await host.WaitForAsync(judge.Id, Finished, 300)).Status);
        var build = await stages.StartBuildTrainingSetAsync(experiment.Id, 1, cancellationToken: Ct);
        Assert.Equal(StageStatus.Completed, (await host.WaitForAsync(build.Id, Finished, 120)).Status);

        await using var db = host.Db();
        var instructions = await db.Instructions.AsNoTracking().Where(i => i.DatasetId == import.DatasetId).ToListAsync(Ct);
        var selection = await db.ExperimentInstructions.AsNoTracking().Where(e => e.ExperimentId == experiment.Id).Join(db.Instructions, e => e.InstructionId, i => i.Id, (e, i) => i.Text).OrderBy(t => t).ToListAsync(Ct);
        var storedPairs = await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experiment.Id).OrderBy(p => p.Id).ToListAsync(Ct);
        var iteration = await db.Iterations.AsNoTracking().SingleAsync(i => i.ExperimentId == experiment.Id && i.Number == 1, Ct);
        var annotations = await db.Annotations.AsNoTracking().Where(a => a.IterationId == iteration.Id).OrderBy(a => a.PairId).ToListAsync(Ct);
        var samples = await db.JudgmentSamples.AsNoTracking().Where(s => s.IterationId == iteration.Id).OrderBy(s => s.PairId).ThenBy(s => s.SampleIndex).ToListAsync(Ct);

        // Import and analysis: 120 rows, each analyzed once.
        Assert.Equal(120, instructions.Count);
        Assert.All(instructions, i => Assert.NotNull(i.AnalyzedAt));
        Assert.Equal(40, selection.Count);

        // Pairs: one per selected instruction; ready ones hold x′ and y_l, failed ones their raw text.
        Assert.Equal(40, storedPairs.Count);
        Assert.All(storedPairs.Where(p => p.Status == PairStatus.Ready), p => Assert.False(string.IsNullOrEmpty(p.ModifiedPrompt) || string.IsNullOrEmpty(p.Chosen) || string.IsNullOrEmpty(p.Rejected)));
        Assert.All(storedPairs.Where(p => p.Status == PairStatus.Failed), p => Assert.False(string.IsNullOrEmpty(p.RawOutput)));
        var eligible = storedPairs.Where(p => p.Status == PairStatus.Ready && !p.HeldOut).Select(p => p.Id).ToList();

        // Judging: every eligible pair annotated with 15 samples whose verdicts re-parse from the stored text.
        Assert.Equal(eligible, annotations.Select(a => a.PairId));
        Assert.Equal(eligible.Count * 15, samples.Count);
        foreach (var sample in samples)
        {
            var annotation = annotations.Single(a => a.PairId == sample.PairId);
            var verdict = VerdictParser.ParseStrict(sample.RawCompletion).Verdict;
            Assert.Equal(verdict, sample.Verdict);
            Assert.Equal(verdict == (annotation.Gold == Position.A ? Verdict.A : Verdict.B), sample.Correct);
        }
        var kept = annotations.Where(a => samples.Any(s => s.PairId == a.PairId && s.Correct == true)).ToList();
        Assert.Equal(kept.Select(a => a.PairId), annotations.Where(a => a.Status == AnnotationStatus.Kept).Select(a => a.PairId));
        Assert.All(kept, a => Assert.True(samples.Single(s => s.PairId == a.PairId && s.SampleIndex == a.KeptSampleIndex).Correct));
        var agreement = samples.Count(s => s.Correct == true) / (double)samples.Count;
        Assert.InRange(agreement, 0.45, 0.7);

        // Training set: balanced by truncation to the smaller label, as the files and the manifest say.
        var goldA = kept.Count(a => a.Gold == Position.A);
        var goldB = kept.Count(a => a.Gold == Position.B);
        var folder = services.GetRequiredService<IOptions<TrainingExportOptions>>().Value.IterationFolder(experiment.Id, 1);
        var manifest = TrainingManifest.FromJson(await File.ReadAllTextAsync(Path.Combine(folder, "manifest.json"), Ct))!;
        var sft = await File.ReadAllLinesAsync(Path.Combine(folder, "sft.jsonl"), Ct);
        var openai = await File.ReadAllLinesAsync(Path.Combine(folder, "openai.jsonl"), Ct);
        Assert.Equal((annotations.Count, kept.Count, annotations.Count - kept.Count), (manifest.Counts.Annotations, manifest.Counts.Kept, manifest.Counts.DroppedNoCorrectSample));
        Assert.Equal((goldA, goldB), (manifest.Sft.GoldABeforeBalancing, manifest.Sft.GoldBBeforeBalancing));
        Assert.Equal(2 * Math.Min(goldA, goldB), sft.Length);
        Assert.Equal(sft.Length, openai.Length);
        Assert.Equal((Math.Min(goldA, goldB), Math.Min(goldA, goldB)), (manifest.Sft.GoldA, manifest.Sft.GoldB));
        Assert.Equal(samples.Count(s => s.Verdict == Verdict.Invalid), manifest.Counts.ParseFailures);
        // DPO: only kept pairs that also have a sample with the wrong (parsed) verdict, balanced the same way.
        var withIncorrect = kept.Where(a => samples.Any(s => s.PairId == a.PairId && s.Verdict is Verdict.A or Verdict.B && s.Correct == false)).ToList();
        var dpo = await File.ReadAllLinesAsync(Path.Combine(folder, "dpo.jsonl"), Ct);
        Assert.Equal(withIncorrect.Count, manifest.Dpo.Candidates);
        Assert.Equal(2 * Math.Min(withIncorrect.Count(a => a.Gold == Position.A), withIncorrect.Count(a => a.Gold == Position.B)), dpo.Length);
        Assert.Equal(dpo.Length, manifest.Dpo.Rows);
        // Provenance: the generator and the template versions that made the pairs.
        Assert.Equal(["sim-generator"], manifest.Pairs!.Generators);
        Assert.Equal(eligible.Count, manifest.Pairs.Methods["ModifiedInstruction"]);
        Assert.Equal(["pair-synthesis", "response-generation"], manifest.Pairs.Templates.Select(t => t.Key).Order(StringComparer.Ordinal));
        Assert.Equal(0.05, manifest.Pairs.HeldOutShare);
        var keptTexts = kept.Select(a => samples.Single(s => s.PairId == a.PairId && s.SampleIndex == a.KeptSampleIndex).RawCompletion).ToHashSet();
        foreach (var line in sft)
        {
            using var row = JsonDocument.Parse(line);
            var prompt = row.RootElement.GetProperty("prompt");
            Assert.Equal(["system", "user"], prompt.EnumerateArray().Select(m => m.GetProperty("role").GetString()));
            Assert.Contains(row.RootElement.GetProperty("completion")[0].GetProperty("content").GetString(), keptTexts);
        }
        var hashes = new Dictionary<string, string>();
        foreach (var file in manifest.Files)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(folder, file.Name), Ct);
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            hashes[file.Name] = file.Sha256;
        }
        Assert.True(hashes.Count >= 3);

        var digest = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\u001F",
            samples.Select(s => $"{storedPairs.Single(p => p.Id == s.PairId).Prompt}|{s.SampleIndex}|{s.RawCompletion}").Order(StringComparer.Ordinal)))));
        // Pair ids depend on the order pairs were stored in (parallel work): compare by prompt.
        var placements = annotations.OrderBy(a => storedPairs.Single(p => p.Id == a.PairId).Prompt, StringComparer.Ordinal).Select(a => a.ChosenPosition).ToList();
        return new PipelineResult(selection, placements, digest, hashes);
    }

    private static bool Finished(StageRun run) => run.Status is StageStatus.Completed or StageStatus.Failed or StageStatus.Cancelled;
}
