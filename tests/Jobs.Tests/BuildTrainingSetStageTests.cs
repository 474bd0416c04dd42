using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Prompts;
using SelfTaught.Core.Stages;
using SelfTaught.Core.Training;
using SelfTaught.SimBackend;

namespace SelfTaught.Jobs.Tests;

/// <summary>
/// The <c>build-training-set</c> stage on the real engine and Hangfire's in-memory queue, over annotations and samples
/// inserted as the judge stage stores them. Every count is checked against a computation over the stored rows.
/// </summary>
[Collection(HangfireHostCollection.Name)]
public sealed class BuildTrainingSetStageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const int MaxLength = 700;

    [Fact]
    public async Task Build_WritesFilesAndRows_WhoseCountsMatchAnIndependentComputation_AndNeverUsesHeldOutPairs()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (experimentId, iterationId) = await SeedJudgedIterationAsync(host, pairs: 160, earlyStop: false);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();

        var estimate = await stages.EstimateBuildTrainingSetAsync(experimentId, 1, Ct);
        var run = await stages.StartBuildTrainingSetAsync(experimentId, 1, new BuildTrainingSetRequest { MaxLengthTokens = MaxLength }, Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        Assert.Equal(StageStatus.Completed, finished.Status);
        Assert.Equal((1, 1, 0), (finished.Total, finished.Done, finished.Failed));
        await using var db = host.Db();
        var expected = await ExpectedAsync(db, iterationId);
        Assert.Equal((0, expected.Kept), (estimate.Calls, estimate.Items));

        var sets = await db.TrainingSets.AsNoTracking().Where(t => t.IterationId == iterationId).Include(t => t.Members).ToListAsync(Ct);
        sets = [.. sets.OrderBy(t => t.Kind)];
        Assert.Equal([TrainingSetKind.Sft, TrainingSetKind.Dpo], sets.Select(s => s.Kind));
        var (sft, dpo) = (sets[0], sets[1]);
        var manifest = JsonDocument.Parse(sft.ManifestJson).RootElement;
        var counts = manifest.GetProperty("counts");
        Assert.Equal(expected.Annotations, counts.GetProperty("annotations").GetInt32());
        Assert.Equal(expected.HeldOut, counts.GetProperty("heldOutExcluded").GetInt32());
        Assert.Equal(expected.Kept, counts.GetProperty("kept").GetInt32());
        Assert.Equal(expected.Dropped, counts.GetProperty("droppedNoCorrectSample").GetInt32());
        Assert.Equal(expected.Failed, counts.GetProperty("failed").GetInt32());
        Assert.Equal(expected.Pending, counts.GetProperty("pending").GetInt32());
        Assert.Equal(expected.Samples, counts.GetProperty("samples").GetInt32());
        Assert.Equal(expected.ParseFailures, counts.GetProperty("parseFailures").GetInt32());
        Assert.Equal(expected.FailedCalls, counts.GetProperty("failedCalls").GetInt32());
        Assert.Equal(0, counts.GetProperty("keptWithoutUsableSample").GetInt32());

        var sftCounts = manifest.GetProperty("sft");
        Assert.Equal(expected.GoldA, sftCounts.GetProperty("goldABeforeBalancing").GetInt32());
        Assert.Equal(expected.GoldB, sftCounts.GetProperty("goldBBeforeBalancing").GetInt32());
        var balanced = Math.Min(expected.GoldA, expected.GoldB);
        Assert.True(expected.GoldA != expected.GoldB && balanced > 10, $"the data must need balancing: {expected.GoldA} A, {expected.GoldB} B");
        Assert.Equal((balanced, balanced, 2 * balanced), (sftCounts.GetProperty("goldA").GetInt32(), sftCounts.GetProperty("goldB").GetInt32(), sftCounts.GetProperty("rows").GetInt32()));
        Assert.Equal((2 * balanced, balanced, balanced), (sft.Size, sft.GoldACount, sft.GoldBCount));

        var dpoCounts = manifest.GetProperty("dpo");
        Assert.Equal(expected.DpoGoldA + expected.DpoGoldB, dpoCounts.GetProperty("candidates").GetInt32());
        Assert.Equal(expected.GoldA + expected.GoldB - expected.DpoGoldA - expected.DpoGoldB, dpoCounts.GetProperty("pairsWithoutIncorrectSample").GetInt32());
        var dpoBalanced = Math.Min(expected.DpoGoldA, expected.DpoGoldB);
        Assert.True(dpoBalanced > 5, "the data must give DPO rows");
        Assert.Equal((2 * dpoBalanced, dpoBalanced, dpoBalanced), (dpo.Size, dpo.GoldACount, dpo.GoldBCount));
        Assert.Equal(2 * dpoBalanced, dpoCounts.GetProperty("rows").GetInt32());

        // Members: none of a held-out pair; SFT completions are the kept correct samples; DPO rejects a wrong parsed verdict.
        var annotations = await db.Annotations.AsNoTracking().Include(a => a.Pair).Where(a => a.IterationId == iterationId).ToDictionaryAsync(a => a.Id, Ct);
        var samples = await db.JudgmentSamples.AsNoTracking().Where(s => s.IterationId == iterationId).ToDictionaryAsync(s => s.Id, Ct);
        Assert.All(sft.Members.Concat(dpo.Members), m => Assert.False(annotations[m.AnnotationId].Pair!.HeldOut));
        Assert.All(sft.Members.Concat(dpo.Members), m => Assert.Equal(annotations[m.AnnotationId].KeptSampleIndex, samples[m.ChosenSampleId].SampleIndex));
        Assert.All(sft.Members.Concat(dpo.Members), m => Assert.True(samples[m.ChosenSampleId].Correct));
        Assert.All(sft.Members, m => Assert.Null(m.RejectedSampleId));
        Assert.All(dpo.Members, m =>
        {
            var rejected = samples[m.RejectedSampleId!.Value];
            Assert.Equal(m.AnnotationId, rejected.AnnotationId);
            Assert.Equal(annotations[m.AnnotationId].Gold == Position.A ? Verdict.B : Verdict.A, rejected.Verdict);
        });
        Assert.Equal(Enumerable.Range(0, sft.Size), sft.Members.OrderBy(m => m.Ordinal).Select(m => m.Ordinal));

        // Length flags, recomputed from the stored texts: ceil((system + user prompt + completion) / 4) > max.
        var system = await db.PromptTemplates.Where(t => t.Key == PromptLibrary.JudgePairwise).Select(t => t.SystemText).FirstAsync(Ct);
        int Tokens(string prompt, string completion) => (int)Math.Ceiling((system!.Length + prompt.Length + completion.Length) / 4.0);
        Assert.All(sft.Members, m =>
        {
            var tokens = Tokens(annotations[m.AnnotationId].JudgePrompt, samples[m.ChosenSampleId].RawCompletion!);
            Assert.Equal((tokens, tokens > MaxLength), (m.TokenCount, m.OverMaxLength));
        });
        Assert.Equal(sft.Members.Count(m => m.OverMaxLength), sftCounts.GetProperty("overMaxLengthRows").GetInt32());
        Assert.InRange(sft.OverMaxLengthCount, 1, sft.Size - 1);
        Assert.Equal(dpo.Members.Count(m => m.OverMaxLength), dpo.OverMaxLengthCount);

        // Files: where the option says, hashed as the manifest and the rows say, and holding exactly the members' texts.
        var folder = host.Host.Services.GetRequiredService<IOptions<TrainingExportOptions>>().Value.IterationFolder(experimentId, 1);
        Assert.StartsWith(Path.GetTempPath(), folder, StringComparison.Ordinal);
        var files = manifest.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!);
        foreach (var name in new[] { TrainingFiles.Sft, TrainingFiles.Dpo, TrainingFiles.OpenAi })
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(folder, name), Ct);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), files[name].GetProperty("sha256").GetString());
            Assert.Equal(bytes.LongLength, files[name].GetProperty("bytes").GetInt64());
        }
        Assert.Equal(files[TrainingFiles.Sft].GetProperty("sha256").GetString(), sft.ContentHash);
        Assert.Equal(files[TrainingFiles.Dpo].GetProperty("sha256").GetString(), dpo.ContentHash);
        Assert.Equal(sft.ManifestJson, await File.ReadAllTextAsync(Path.Combine(folder, TrainingFiles.Manifest), Ct));
        Assert.Equal(sft.ManifestJson, dpo.ManifestJson);
        var sftLines = await File.ReadAllLinesAsync(Path.Combine(folder, TrainingFiles.Sft), Ct);
        var ordered = sft.Members.OrderBy(m => m.Ordinal).ToList();
        Assert.Equal(ordered.Count, sftLines.Length);
        for (var i = 0; i < ordered.Count; i++)
        {
            var row = JsonDocument.Parse(sftLines[i]).RootElement;
            Assert.Equal(system, row.GetProperty("prompt")[0].GetProperty("content").GetString());
            Assert.Equal(annotations[ordered[i].AnnotationId].JudgePrompt, row.GetProperty("prompt")[1].GetProperty("content").GetString());
            Assert.Equal(samples[ordered[i].ChosenSampleId].RawCompletion, row.GetProperty("completion")[0].GetProperty("content").GetString());
        }
        var dpoLines = await File.ReadAllLinesAsync(Path.Combine(folder, TrainingFiles.Dpo), Ct);
        var dpoOrdered = dpo.Members.OrderBy(m => m.Ordinal).ToList();
        Assert.Equal(dpoOrdered.Count, dpoLines.Length);
        Assert.All(dpoLines.Zip(dpoOrdered), pair => Assert.Equal(samples[pair.Second.RejectedSampleId!.Value].RawCompletion,
            JsonDocument.Parse(pair.First).RootElement.GetProperty("rejected")[0].GetProperty("content").GetString()));
        Assert.Equal(sftLines.Length, (await File.ReadAllLinesAsync(Path.Combine(folder, TrainingFiles.OpenAi), Ct)).Length);
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(folder)!, "*staging*"));

        // The iteration: built, and its statistics keep what the judge stored.
        var iteration = await db.Iterations.AsNoTracking().SingleAsync(i => i.Id == iterationId, Ct);
        Assert.Equal(IterationStatus.TrainingSetBuilt, iteration.Status);
        var statistics = JsonDocument.Parse(iteration.StatisticsJson!).RootElement;
        Assert.Equal(0.5, statistics.GetProperty("judge").GetProperty("agreement").GetDouble());
        Assert.Equal(expected.GoldA + expected.GoldB, statistics.GetProperty("training").GetProperty("sizeBeforeBalancing").GetInt32());
        Assert.Equal(2 * balanced, statistics.GetProperty("training").GetProperty("size").GetInt32());
        Assert.Equal(run.Id, statistics.GetProperty("training").GetProperty("stageRunId").GetInt64());
    }

    [Fact]
    public async Task Build_Again_WithTheSameSeed_GivesByteIdenticalFiles_AndReplacesTheRows()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (experimentId, iterationId) = await SeedJudgedIterationAsync(host, pairs: 80, earlyStop: true);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();
        var folder = host.Host.Services.GetRequiredService<IOptions<TrainingExportOptions>>().Value.IterationFolder(experimentId, 1);
        string[] names = [TrainingFiles.Sft, TrainingFiles.Dpo, TrainingFiles.OpenAi, TrainingFiles.Manifest];

        var first = await stages.StartBuildTrainingSetAsync(experimentId, 1, cancellationToken: Ct);
        Assert.Equal(StageStatus.Completed, (await host.WaitForAsync(first.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed)).Status);
        var before = new List<byte[]>();
        foreach (var name in names) before.Add(await File.ReadAllBytesAsync(Path.Combine(folder, name), Ct));
        foreach (var name in names) File.Delete(Path.Combine(folder, name));
        var second = await stages.StartBuildTrainingSetAsync(experimentId, 1, cancellationToken: Ct);
        Assert.Equal(StageStatus.Completed, (await host.WaitForAsync(second.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed)).Status);

        for (var i = 0; i < names.Length; i++) Assert.Equal(before[i], await File.ReadAllBytesAsync(Path.Combine(folder, names[i]), Ct));
        await using var db = host.Db();
        var sets = await db.TrainingSets.AsNoTracking().Where(t => t.IterationId == iterationId).ToListAsync(Ct);
        Assert.Equal(2, sets.Count);
        Assert.All(sets, s => Assert.Equal(second.Id, s.StageRunId));
        Assert.Equal(sets.Sum(s => s.Size), await db.TrainingSetMembers.CountAsync(Ct));
        // Early stop: the manifest says where DPO rows come from.
        var manifest = JsonDocument.Parse(Encoding.UTF8.GetString(before[3])).RootElement;
        Assert.Contains("hard pairs", manifest.GetProperty("earlyStop").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_WithNothingToTrainOn_IsRefused_AndARunStartedAnywayFails_SayingWhy()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (experimentId, iterationId) = await SeedJudgedIterationAsync(host, pairs: 20, earlyStop: false, keepNone: true);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();

        var refused = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartBuildTrainingSetAsync(experimentId, 1, cancellationToken: Ct));
        var missing = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartBuildTrainingSetAsync(experimentId, 2, cancellationToken: Ct));
        var run = await host.Engine.CreateAsync(StageKind.BuildTrainingSet, new TrainingSetBuildSettings(), experimentId: experimentId, iterationId: iterationId, cancellationToken: Ct);
        var failed = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        Assert.True(refused.Conflict);
        Assert.Contains("nothing to train on", refused.Message, StringComparison.Ordinal);
        Assert.True(missing.NotFound);
        Assert.Contains("no iteration 2", missing.Message, StringComparison.Ordinal);
        Assert.Equal(StageStatus.Failed, failed.Status);
        Assert.Contains("nothing to train on", failed.LastError, StringComparison.Ordinal);
        Assert.Contains("dropped for having no correct sample", failed.LastError, StringComparison.Ordinal);
        await using var db = host.Db();
        Assert.False(await db.TrainingSets.AnyAsync(Ct));
        Assert.Equal(IterationStatus.Judged, (await db.Iterations.SingleAsync(i => i.Id == iterationId, Ct)).Status);
    }

    [Fact]
    public async Task Start_BeforeJudging_IsAConflict()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (experimentId, iterationId) = await SeedJudgedIterationAsync(host, pairs: 20, earlyStop: false);
        await using (var db = host.Db())
            await db.Iterations.Where(i => i.Id == iterationId).ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, IterationStatus.Judging), Ct);

        var ex = await Assert.ThrowsAsync<ExperimentStageException>(() => host.Host.Services.GetRequiredService<ExperimentStages>().StartBuildTrainingSetAsync(experimentId, 1, cancellationToken: Ct));

        Assert.True(ex.Conflict);
        Assert.Contains("not been judged completely", ex.Message, StringComparison.Ordinal);
    }

    private sealed record Expected(int Annotations, int HeldOut, int Kept, int Dropped, int Failed, int Pending, int Samples, int ParseFailures,
        int FailedCalls, int GoldA, int GoldB, int DpoGoldA, int DpoGoldB);

    /// <summary>The manifest's counts, computed here from the stored rows with plain LINQ.</summary>
    private static async Task<Expected> ExpectedAsync(SelfTaughtDbContext db, long iterationId)
    {
        var annotations = await db.Annotations.AsNoTracking().Include(a => a.Pair).Include(a => a.Samples).Where(a => a.IterationId == iterationId).ToListAsync(Ct);
        var open = annotations.Where(a => !a.Pair!.HeldOut).ToList();
        var kept = open.Where(a => a.Status == AnnotationStatus.Kept).ToList();
        bool HasWrong(Annotation a) => a.Samples.Any(s => s.Verdict == (a.Gold == Position.A ? Verdict.B : Verdict.A));
        return new Expected(
            annotations.Count, annotations.Count(a => a.Pair!.HeldOut), kept.Count,
            open.Count(a => a.Status == AnnotationStatus.Dropped), open.Count(a => a.Status == AnnotationStatus.Failed), open.Count(a => a.Status == AnnotationStatus.Pending),
            open.Sum(a => a.Samples.Count), open.Sum(a => a.Samples.Count(s => s.Verdict == Verdict.Invalid)), open.Sum(a => a.Samples.Count(s => s.Verdict is null)),
            kept.Count(a => a.Gold == Position.A), kept.Count(a => a.Gold == Position.B),
            kept.Count(a => a.Gold == Position.A && HasWrong(a)), kept.Count(a => a.Gold == Position.B && HasWrong(a)));
    }

    /// <summary>
    /// An experiment whose iteration 1 is judged: <paramref name="pairs"/> pairs (every 8th held out), 4 samples each
    /// drawn with a fixed seed (correct 55%, wrong 25%, invalid 15%, failed call 5%), gold A about twice as often as B,
    /// annotations Kept (lowest correct index), Dropped, Failed or Pending as the judge stage stores them.
    /// </summary>
    private static async Task<(long ExperimentId, long IterationId)> SeedJudgedIterationAsync(StageHost host, int pairs, bool earlyStop, bool keepNone = false)
    {
        var pool = await host.SeedInstructionsAsync(1);
        var experiments = new ExperimentService(host.Host.Services.GetRequiredService<IDbContextFactory<SelfTaughtDbContext>>(), TimeProvider.System);
        var experiment = await experiments.CreateAsync(new CreateExperimentRequest
        {
            Name = "training", DatasetId = pool, SeedModel = new("sim-judge"), Seed = 31,
            Settings = new ExperimentSettings { Judging = new JudgingSettings { Samples = 4, EarlyStop = earlyStop } },
        }, cancellationToken: Ct);
        await using var db = host.Db();
        var template = await db.PromptTemplates.Where(t => t.Key == PromptLibrary.JudgePairwise).OrderByDescending(t => t.Version).FirstAsync(Ct);
        var iteration = await db.Iterations.SingleAsync(i => i.ExperimentId == experiment.Id, Ct);
        iteration.Status = IterationStatus.Judged;
        iteration.JudgeTemplateId = template.Id;
        iteration.StatisticsJson = """{"judge":{"agreement":0.5}}""";
        var random = new Random(1234);
        var now = DateTime.UtcNow;
        var pairRows = Enumerable.Range(0, pairs).Select(p => new Pair
        {
            ExperimentId = experiment.Id, Prompt = $"Question {p}", Chosen = "good", Rejected = "bad", Status = PairStatus.Ready, HeldOut = p % 8 == 7, CreatedAt = now,
        }).ToList();
        db.Pairs.AddRange(pairRows);
        await db.SaveChangesAsync(Ct);
        for (var p = 0; p < pairs; p++)
        {
            var pair = pairRows[p];
            var gold = random.NextDouble() < 0.66 ? Position.A : Position.B;
            var judgePrompt = $"[[User Question]]\nQuestion {p}: {new string('q', random.Next(200, 1600))}\n[The Start of Assistant A’s Answer]\n...";
            var annotation = new Annotation { PairId = pair.Id, IterationId = iteration.Id, ChosenPosition = gold, Gold = gold, JudgePrompt = judgePrompt, TemplateId = template.Id, CreatedAt = now, FullN = true };
            var pending = p % 37 == 36;
            var failing = p % 29 == 28;
            for (var k = 0; k < (pending ? 0 : 4); k++)
            {
                var roll = random.NextDouble();
                Verdict? verdict = failing ? null
                    : keepNone ? (roll < 0.7 ? Other(gold) : Verdict.Invalid)
                    : roll < 0.55 ? Same(gold) : roll < 0.80 ? Other(gold) : roll < 0.95 ? Verdict.Invalid : null;
                annotation.Samples.Add(new JudgmentSample
                {
                    IterationId = iteration.Id, PairId = pair.Id, SampleIndex = k, TemplateId = template.Id, Verdict = verdict,
                    Correct = verdict is null ? null : verdict == Same(gold),
                    RawCompletion = verdict is null ? null : $"Sample {k} of pair {p}. {new string('j', random.Next(50, 1200))} [[{verdict switch { Verdict.A => "A", Verdict.B => "B", _ => "C" }}]]",
                    Error = verdict is null ? "HTTP 500" : null, Model = "sim-judge@sha256:abc", Endpoint = "sim", Temperature = 0.7, TopP = 0.9, MaxTokens = 4096,
                    RequestSeed = Seeds.Derive(iteration.Seed, p, k), ChoiceIndex = 0, CreatedAt = now,
                });
            }
            var correct = annotation.Samples.Where(s => s.Correct == true).Select(s => s.SampleIndex).ToList();
            annotation.SamplesDrawn = annotation.Samples.Count;
            annotation.CorrectCount = correct.Count;
            annotation.InvalidCount = annotation.Samples.Count(s => s.Verdict == Verdict.Invalid);
            annotation.Status = pending ? AnnotationStatus.Pending
                : correct.Count > 0 ? AnnotationStatus.Kept
                : annotation.Samples.All(s => s.Verdict is null) ? AnnotationStatus.Failed : AnnotationStatus.Dropped;
            annotation.KeptSampleIndex = correct.Count > 0 ? correct.Min() : null;
            db.Annotations.Add(annotation);
        }
        await db.SaveChangesAsync(Ct);
        return (experiment.Id, iteration.Id);

        static Verdict Same(Position gold) => gold == Position.A ? Verdict.A : Verdict.B;
        static Verdict Other(Position gold) => gold == Position.A ? Verdict.B : Verdict.A;
    }
}
