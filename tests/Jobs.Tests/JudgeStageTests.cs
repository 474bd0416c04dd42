using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Judging;
using SelfTaught.Core.Prompts;
using SelfTaught.Core.Stages;
using SelfTaught.SimBackend;

namespace SelfTaught.Jobs.Tests;

/// <summary>The iteration <c>judge</c> stage (rejection sampling) on the real engine, Hangfire and SimBackend's judge.</summary>
[Collection(HangfireHostCollection.Name)]
public sealed class JudgeStageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Judge_StoresEverySample_AndKeepsOneCorrectAtRandom_AsAnIndependentComputationSays()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = 0.6, MalformedRate = 0.1 }, Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (experimentId, pairIds) = await SeedPairsAsync(host, pairs: 30, seed: 7, heldOut: 3, failed: 2);

        var iterations = host.Host.Services.GetRequiredService<IterationService>();
        var estimate = await iterations.EstimateJudgeAsync(experimentId, 1, cancellationToken: Ct);
        var run = await iterations.StartJudgeAsync(experimentId, 1, cancellationToken: Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        await using var db = host.Db();
        var iteration = await db.Iterations.AsNoTracking().SingleAsync(i => i.ExperimentId == experimentId && i.Number == 1, Ct);
        var annotations = await db.Annotations.AsNoTracking().Where(a => a.IterationId == iteration.Id).OrderBy(a => a.PairId).ToListAsync(Ct);
        var samples = await db.JudgmentSamples.AsNoTracking().Where(s => s.IterationId == iteration.Id).ToListAsync(Ct);
        var template = await db.PromptTemplates.AsNoTracking().SingleAsync(t => t.Id == iteration.JudgeTemplateId, Ct);
        var pairs = await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId).ToDictionaryAsync(p => p.Id, Ct);

        Assert.Equal(StageStatus.Completed, finished.Status);
        Assert.Equal((30L, 30L * 15, 30L * 15 * 4_096), (estimate.Items, estimate.Calls, estimate.MaxCompletionTokens));
        // Held-out and failed pairs are never judged.
        Assert.Equal(pairIds.Eligible, annotations.Select(a => a.PairId));
        Assert.Equal(30 * 15, samples.Count);
        Assert.Equal(30 * 15, sim.Stats.ChatRequests.Count(r => r.Messages.Any(m => m.Content.Contains("impartial judge", StringComparison.Ordinal))));
        foreach (var annotation in annotations)
        {
            var pair = pairs[annotation.PairId];
            var own = samples.Where(s => s.PairId == annotation.PairId).OrderBy(s => s.SampleIndex).ToList();
            var placement = JudgePlan.Placement(iteration.Seed, pair.Id);
            var (a, b) = placement == Position.A ? (pair.Chosen!, pair.Rejected!) : (pair.Rejected!, pair.Chosen!);
            Assert.Equal(placement, annotation.ChosenPosition);
            Assert.Equal(placement, annotation.Gold);
            Assert.Equal(PromptText.Render(template.UserText, PromptValues.JudgePairwise(pair.Prompt, a, b)), annotation.JudgePrompt);
            Assert.Equal(Enumerable.Range(0, 15), own.Select(s => s.SampleIndex));
            foreach (var sample in own)
            {
                // Recomputed from the stored raw text: strict parse, correct = verdict is the position of y_w.
                var verdict = VerdictParser.ParseStrict(sample.RawCompletion).Verdict;
                Assert.Equal(verdict, sample.Verdict);
                Assert.Equal(verdict == (placement == Position.A ? Verdict.A : Verdict.B), sample.Correct);
                Assert.Equal(JudgePlan.RequestSeed(iteration.Seed, pair.Id, sample.SampleIndex), sample.RequestSeed);
                Assert.Equal((0, 0.7, 0.9, 4_096, iteration.JudgeTemplateId), (sample.ChoiceIndex, sample.Temperature, sample.TopP, sample.MaxTokens, sample.TemplateId));
                Assert.Equal("sim-judge", sample.Model);
            }
            var expectedKept = JudgePlan.ChooseKept(own.Select(s => new SampleOutcome(s.SampleIndex, s.Correct == true)).ToList(), iteration.Seed, pair.Id, earlyStop: false);
            Assert.Equal(expectedKept, annotation.KeptSampleIndex);
            Assert.Equal(expectedKept is null ? AnnotationStatus.Dropped : AnnotationStatus.Kept, annotation.Status);
            Assert.Equal((true, 15, own.Count(s => s.Correct == true), own.Count(s => s.Verdict == Verdict.Invalid)),
                (annotation.FullN, annotation.SamplesDrawn, annotation.CorrectCount, annotation.InvalidCount));
        }
        // Every request had its own seed.
        var seeds = sim.Stats.ChatRequests.Where(r => r.Messages.Any(m => m.Content.Contains("impartial judge", StringComparison.Ordinal))).Select(r => r.Seed).ToList();
        Assert.Equal(seeds.Count, seeds.Distinct().Count());
        // The judge agrees with the synthetic label about as often as SimBackend's accuracy (0.6, minus malformed outputs).
        var agreement = samples.Count(s => s.Correct == true) / (double)samples.Count;
        Assert.InRange(agreement, 0.4, 0.7);
        Assert.Contains(samples, s => s.Verdict == Verdict.Invalid);

        // Statistics stored at completion equal a computation over the stored rows.
        var stored = IterationStatistics.ReadJudging(iteration.StatisticsJson);
        Assert.NotNull(stored);
        Assert.Equal(IterationStatus.Judged, iteration.Status);
        Assert.Equal(30, stored.PairsJudged);
        Assert.Equal(annotations.Count(a => a.Status == AnnotationStatus.Kept), stored.PairsKept);
        Assert.Equal(agreement, stored.AgreementMean!.Value, 10);
        Assert.Equal(samples.Count(s => s.Verdict == Verdict.Invalid) / (double)samples.Count, stored.ParseFailureRate!.Value, 10);
        Assert.Equal(Enumerable.Range(0, 16).Select(k => annotations.Count(a => a.CorrectCount == k)), stored.AgreementDistribution);
        Assert.Equal((450, false), (stored.Calls, stored.AgreementEstimated));
        Assert.Equal(samples.Sum(s => (long)s.CompletionTokens!.Value), stored.CompletionTokens);
    }

    [Fact]
    public async Task EarlyStop_KeepsWhatFixedNKeeps_WithFewerCalls_EvenWhenShortJudgmentsFinishFirst()
    {
        // Latency grows with the judgment's length, so within a batch of parallel samples the short ones finish first:
        // keeping "the first to finish" would skew kept judgments short. Early stop must keep the lowest-index correct one.
        await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = 0.35, PerTokenMs = 0.3, MaxRecordedRequests = 10_000 }, Ct);
        const int pairs = 160, n = 8;
        int JudgeCalls() => sim.Stats.ChatRequests.Count(r => r.Messages.Any(m => m.Content.Contains("impartial judge", StringComparison.Ordinal)));

        // The same seeds in two fresh databases: the same pairs (ids too), placements and request seeds, so the same samples.
        async Task<(Dictionary<string, (Annotation Annotation, List<JudgmentSample> Samples)> Pairs, JudgingStatistics Statistics)> RunAsync(JudgeOverrides overrides)
        {
            await using var host = await StageHost.StartAsync(sim, new() { ["Inference:Endpoints:0:MaxConcurrentRequests"] = "16" });
            var (experimentId, _) = await SeedPairsAsync(host, pairs, seed: 77);
            var run = await host.Host.Services.GetRequiredService<IterationService>().StartJudgeAsync(experimentId, 1, overrides, Ct);
            var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed, seconds: 120);
            Assert.Equal(StageStatus.Completed, finished.Status);
            await using var db = host.Db();
            var iteration = await db.Iterations.AsNoTracking().SingleAsync(i => i.ExperimentId == experimentId, Ct);
            var annotations = await db.Annotations.AsNoTracking().Include(a => a.Pair).Where(a => a.IterationId == iteration.Id).ToListAsync(Ct);
            var samples = await db.JudgmentSamples.AsNoTracking().Where(s => s.IterationId == iteration.Id).ToListAsync(Ct);
            return (annotations.ToDictionary(a => a.Pair!.Prompt, a => (a, samples.Where(s => s.AnnotationId == a.Id).OrderBy(s => s.SampleIndex).ToList())),
                IterationStatistics.ReadJudging(iteration.StatisticsJson)!);
        }
        var (fixedN, _) = await RunAsync(new JudgeOverrides(Samples: n));
        var fixedCalls = JudgeCalls();
        var (early, statistics) = await RunAsync(new JudgeOverrides(Samples: n, EarlyStop: true, EarlyStopBatch: 4, FullNShare: 0.1, FullNMinimum: 20));
        var earlyCalls = JudgeCalls() - fixedCalls;

        Assert.Equal(pairs, early.Count);
        // The same seeds give the same samples, so the same pairs are dropped (none of N correct) under both modes.
        Assert.Equal(fixedN.Where(p => p.Value.Annotation.Status == AnnotationStatus.Dropped).Select(p => p.Key).Order(),
            early.Where(p => p.Value.Annotation.Status == AnnotationStatus.Dropped).Select(p => p.Key).Order());
        foreach (var (prompt, (annotation, samples)) in early)
        {
            var reference = fixedN[prompt].Samples;
            Assert.Equal(reference.Take(samples.Count).Select(s => s.RawCompletion), samples.Select(s => s.RawCompletion));
            // Kept: the lowest-index correct sample, whatever finished first.
            Assert.Equal(reference.FirstOrDefault(s => s.Correct == true)?.SampleIndex, annotation.KeptSampleIndex);
        }
        // Kept judgments are as long under early stop as under fixed N (a finish-order bias would make them shorter).
        double MeanKeptLength(Dictionary<string, (Annotation Annotation, List<JudgmentSample> Samples)> set) => set.Values
            .Where(v => v.Annotation.KeptSampleIndex is not null)
            .Average(v => v.Samples.Single(s => s.SampleIndex == v.Annotation.KeptSampleIndex).RawCompletion!.Length);
        Assert.InRange(MeanKeptLength(early) / MeanKeptLength(fixedN), 0.9, 1.1);
        // Fewer calls: measured against fixed N's n per pair.
        Assert.Equal(pairs * n, fixedCalls);
        Assert.True(earlyCalls < 0.8 * pairs * n, $"early stop made {earlyCalls} calls, fixed N {pairs * n}");
        TestContext.Current.SendDiagnosticMessage($"Early stop: {earlyCalls} calls vs {pairs * n} with fixed N ({earlyCalls / (double)(pairs * n):P0}).");
        // Agreement comes from the full-N subsample only, and says it is estimated.
        Assert.Equal((JudgePlan.FullNSubsampleSize(pairs, 0.1, 20), true), (statistics.FullNPairs, statistics.AgreementEstimated));
        Assert.Equal(early.Values.Count(v => v.Annotation.FullN), statistics.FullNPairs);
        Assert.All(early.Values.Where(v => v.Annotation.FullN), v => Assert.Equal(n, v.Samples.Count));
    }

    [Fact]
    public async Task Judge_OnAnEndpointThatAcceptsN_AsksForAllSamplesInOneRequest_AndStoresEachChoice()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = 0.7 }, Ct);
        await using var host = await StageHost.StartAsync(sim, new()
        {
            ["Inference:Endpoints:0:Kind"] = "OpenAICompatible",
            ["Inference:Endpoints:0:BaseUrl"] = sim.OpenAIBaseUri.ToString(),
            ["Inference:Endpoints:0:AcceptsN"] = "true",
        });
        var (experimentId, pairIds) = await SeedPairsAsync(host, pairs: 5, seed: 21);
        var iterations = host.Host.Services.GetRequiredService<IterationService>();
        var estimate = await iterations.EstimateJudgeAsync(experimentId, 1, new JudgeOverrides(Samples: 6), Ct);
        var run = await iterations.StartJudgeAsync(experimentId, 1, new JudgeOverrides(Samples: 6), Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        await using var db = host.Db();
        var iteration = await db.Iterations.AsNoTracking().SingleAsync(i => i.ExperimentId == experimentId, Ct);
        var samples = await db.JudgmentSamples.AsNoTracking().Where(s => s.IterationId == iteration.Id).OrderBy(s => s.PairId).ThenBy(s => s.SampleIndex).ToListAsync(Ct);
        var judgeRequests = sim.Stats.ChatRequests.Where(r => r.Messages.Any(m => m.Content.Contains("impartial judge", StringComparison.Ordinal))).ToList();

        Assert.Equal(StageStatus.Completed, finished.Status);
        Assert.Equal(5, estimate.Calls);
        Assert.Equal(5, judgeRequests.Count);
        Assert.All(judgeRequests, r => Assert.Equal(6, r.N));
        Assert.Equal(30, samples.Count);
        foreach (var pairId in pairIds.Eligible)
        {
            var own = samples.Where(s => s.PairId == pairId).ToList();
            Assert.Equal(Enumerable.Range(0, 6), own.Select(s => s.ChoiceIndex));
            Assert.All(own, s => Assert.Equal(JudgePlan.RequestSeed(iteration.Seed, pairId, 0), s.RequestSeed));
            // Distinct choices, each the sample SimBackend makes for seed s + k; usage is on the request's first choice.
            Assert.Equal(6, own.Select(s => s.RawCompletion).Distinct().Count());
            Assert.NotNull(own[0].CompletionTokens);
            Assert.All(own.Skip(1), s => Assert.Null(s.CompletionTokens));
        }
        var statistics = IterationStatistics.ReadJudging(iteration.StatisticsJson)!;
        Assert.Equal(5, statistics.Calls);
    }

    [Fact]
    public async Task Judge_WithTheSameSeed_PlacesAndSamplesIdentically()
    {
        async Task<List<(long Pair, Position Placement, int Index, string? Text, int? Kept)>> RunAsync()
        {
            await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = 0.7 }, Ct);
            await using var host = await StageHost.StartAsync(sim);
            var (experimentId, _) = await SeedPairsAsync(host, pairs: 8, seed: 1234);
            var iterations = host.Host.Services.GetRequiredService<IterationService>();
            var run = await iterations.StartJudgeAsync(experimentId, 1, new JudgeOverrides(Samples: 5), Ct);
            await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);
            await using var db = host.Db();
            var rows = await db.JudgmentSamples.AsNoTracking().Join(db.Annotations, s => s.AnnotationId, a => a.Id, (s, a) => new { s, a })
                .OrderBy(x => x.a.PairId).ThenBy(x => x.s.SampleIndex)
                .Select(x => new { x.a.PairId, x.a.ChosenPosition, x.s.SampleIndex, x.s.RawCompletion, x.a.KeptSampleIndex })
                .ToListAsync(Ct);
            return rows.Select(r => (r.PairId, r.ChosenPosition, r.SampleIndex, r.RawCompletion, r.KeptSampleIndex)).ToList();
        }

        var first = await RunAsync();
        var second = await RunAsync();

        Assert.Equal(40, first.Count);
        Assert.Equal(first, second);
        Assert.Contains(first, r => r.Placement == Position.A);
        Assert.Contains(first, r => r.Placement == Position.B);
    }

    [Fact]
    public async Task Judge_RunAgain_SkipsJudgedPairs_WithoutDuplicatesOrCalls()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = 0.8 }, Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (experimentId, _) = await SeedPairsAsync(host, pairs: 6, seed: 5);
        var iterations = host.Host.Services.GetRequiredService<IterationService>();
        var first = await iterations.StartJudgeAsync(experimentId, 1, new JudgeOverrides(Samples: 4), Ct);
        await host.WaitForAsync(first.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);
        var calls = sim.Stats.ChatRequests.Count;

        // The same settings again: nothing new to judge. Changed settings are refused once judgments exist.
        var again = await iterations.StartJudgeAsync(experimentId, 1, cancellationToken: Ct);
        var finished = await host.WaitForAsync(again.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);
        var refused = await Assert.ThrowsAsync<ExperimentStageException>(() => iterations.StartJudgeAsync(experimentId, 1, new JudgeOverrides(Samples: 9), Ct));

        await using var db = host.Db();
        Assert.Equal(StageStatus.Completed, finished.Status);
        Assert.Equal((6, 0), (finished.Skipped, finished.Done));
        Assert.Equal(calls, sim.Stats.ChatRequests.Count);
        Assert.Equal(24, await db.JudgmentSamples.CountAsync(Ct));
        Assert.Equal(6, await db.Annotations.CountAsync(Ct));
        Assert.True(refused.Conflict);
        Assert.Contains("already has judgments", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Judge_ChunkDeliveredAgain_WhileTheRunIsUnfinished_CreatesNoDuplicateSamplesNorCalls()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = 0.8 }, Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (experimentId, pairIds) = await SeedPairsAsync(host, pairs: 6, seed: 8);
        var run = await host.Host.Services.GetRequiredService<IterationService>().StartJudgeAsync(experimentId, 1, new JudgeOverrides(Samples: 4), Ct);
        await host.WaitForAsync(run.Id, r => r.Status == StageStatus.Completed);
        await using var db = host.Db();
        var before = await db.JudgmentSamples.AsNoTracking().OrderBy(s => s.Id).Select(s => new { s.Id, s.PairId, s.SampleIndex, s.RawCompletion }).ToListAsync(Ct);
        var calls = sim.Stats.ChatRequests.Count;

        // As a crash or Hangfire's at-least-once delivery leaves it: the run Running again and its chunk delivered twice.
        await db.StageRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, StageStatus.Running).SetProperty(r => r.FinishedAt, (DateTime?)null), Ct);
        await Task.WhenAll(
            host.Engine.RunChunkAsync(run.Id, pairIds.Eligible[0], pairIds.Eligible[^1], Ct),
            host.Engine.RunChunkAsync(run.Id, pairIds.Eligible[0], pairIds.Eligible[^1], Ct));
        var after = await db.JudgmentSamples.AsNoTracking().OrderBy(s => s.Id).Select(s => new { s.Id, s.PairId, s.SampleIndex, s.RawCompletion }).ToListAsync(Ct);

        Assert.Equal(24, before.Count);
        Assert.Equal(before, after);
        Assert.Equal(6, await db.Annotations.CountAsync(Ct));
        Assert.Equal(calls, sim.Stats.ChatRequests.Count);
    }

    [Fact]
    public async Task Judge_WhenEverySampleIsUnparsable_DropsEveryPair_AndSaysSo()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { MalformedRate = 1.0 }, Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (experimentId, _) = await SeedPairsAsync(host, pairs: 5, seed: 3);
        var iterations = host.Host.Services.GetRequiredService<IterationService>();
        var run = await iterations.StartJudgeAsync(experimentId, 1, new JudgeOverrides(Samples: 3), Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        await using var db = host.Db();
        var iteration = await db.Iterations.AsNoTracking().SingleAsync(i => i.ExperimentId == experimentId, Ct);
        var statistics = IterationStatistics.ReadJudging(iteration.StatisticsJson)!;
        Assert.Equal(StageStatus.Completed, finished.Status);
        Assert.All(await db.Annotations.ToListAsync(Ct), a => Assert.Equal((AnnotationStatus.Dropped, null, 3), (a.Status, a.KeptSampleIndex, a.InvalidCount)));
        Assert.All(await db.JudgmentSamples.ToListAsync(Ct), s => Assert.Equal((Verdict.Invalid, false), (s.Verdict!.Value, s.Correct!.Value)));
        Assert.All(await db.JudgmentSamples.ToListAsync(Ct), s => Assert.False(string.IsNullOrEmpty(s.Error)));
        Assert.Equal((5, 0, 1.0, 0.0), (statistics.PairsDropped, statistics.PairsKept, statistics.ParseFailureRate, statistics.PairsWithCorrectShare));
    }

    [Fact]
    public async Task Judge_WhenTheJudgeIsDown_RecordsFailuresAndStoresNothing_ThenRetryFailedCompletes()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = 0.8, Rate500 = 1.0 }, Ct);
        await using var host = await StageHost.StartAsync(sim, new() { ["Inference:Retry:MaxRetries"] = "1" });
        var (experimentId, _) = await SeedPairsAsync(host, pairs: 4, seed: 11);
        var iterations = host.Host.Services.GetRequiredService<IterationService>();
        var run = await iterations.StartJudgeAsync(experimentId, 1, new JudgeOverrides(Samples: 2), Ct);
        var failed = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed && r.Failed + r.Done >= r.Total);

        await using (var db = host.Db())
        {
            Assert.Equal(4, failed.Failed);
            Assert.Equal(0, await db.Annotations.CountAsync(Ct));
            Assert.Equal(0, await db.JudgmentSamples.CountAsync(Ct));
            var messages = await db.StageRunFailures.Where(f => f.StageRunId == run.Id).Select(f => f.Message).ToListAsync(Ct);
            Assert.All(messages, m => Assert.Contains("Judging pair", m, StringComparison.Ordinal));
            // The iteration is not judged: its statistics count the pairs without a judgment, and no training set can be built.
            var iteration = await db.Iterations.AsNoTracking().SingleAsync(i => i.ExperimentId == experimentId, Ct);
            Assert.Equal(IterationStatus.Judging, iteration.Status);
            Assert.Equal((0, 4), (IterationStatistics.ReadJudging(iteration.StatisticsJson)!.PairsJudged, IterationStatistics.ReadJudging(iteration.StatisticsJson)!.PairsNotJudged));
            var refused = await Assert.ThrowsAsync<ExperimentStageException>(() =>
                host.Host.Services.GetRequiredService<ExperimentStages>().StartBuildTrainingSetAsync(experimentId, 1, cancellationToken: Ct));
            Assert.Contains("has not been judged completely", refused.Message, StringComparison.Ordinal);
        }

        sim.Options.Rate500 = 0;
        await host.Engine.RetryFailedAsync(run.Id, Ct);
        var completed = await host.WaitForAsync(run.Id, r => r.Status == StageStatus.Completed);
        await using var after = host.Db();
        Assert.Equal(4, await after.Annotations.CountAsync(Ct));
        Assert.Equal(8, await after.JudgmentSamples.CountAsync(Ct));
        Assert.Equal(4, completed.Done);
        var judged = await after.Iterations.AsNoTracking().SingleAsync(i => i.ExperimentId == experimentId, Ct);
        Assert.Equal((IterationStatus.Judged, 0), (judged.Status, IterationStatistics.ReadJudging(judged.StatisticsJson)!.PairsNotJudged));
    }

    [Fact]
    public async Task StartJudge_WithoutReadyPairs_SaysWhatIsMissing()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var (experimentId, _) = await SeedPairsAsync(host, pairs: 0, seed: 1);
        var iterations = host.Host.Services.GetRequiredService<IterationService>();

        var empty = await Assert.ThrowsAsync<ExperimentStageException>(() => iterations.StartJudgeAsync(experimentId, 1, cancellationToken: Ct));
        var missing = await Assert.ThrowsAsync<ExperimentStageException>(() => iterations.StartJudgeAsync(experimentId, 2, cancellationToken: Ct));
        var invalid = await Assert.ThrowsAsync<ExperimentStageException>(() => iterations.StartJudgeAsync(experimentId, 1, new JudgeOverrides(Samples: 0), Ct));

        Assert.Contains("no ready pairs", empty.Message, StringComparison.Ordinal);
        Assert.True(empty.Conflict);
        Assert.True(missing.NotFound);
        Assert.Contains("settings.judging.samples", invalid.Message, StringComparison.Ordinal);
        await using var db = host.Db();
        Assert.Equal(0, await db.StageRuns.CountAsync(r => r.Kind == StageKind.Judge, Ct));
    }

    /// <summary>
    /// An experiment (seed <paramref name="seed"/>) with <paramref name="pairs"/> ready pairs whose y_l carries
    /// SimBackend's worse-answer mark, plus held-out and failed pairs that must not be judged.
    /// </summary>
    internal static async Task<(long ExperimentId, (List<long> Eligible, List<long> Others) PairIds)> SeedPairsAsync(
        StageHost host, int pairs, long seed, int heldOut = 0, int failed = 0)
    {
        var poolId = await host.SeedInstructionsAsync(1);
        var experiments = host.Host.Services.GetRequiredService<ExperimentService>();
        var created = await experiments.CreateAsync(new CreateExperimentRequest { Name = $"judge test {Guid.NewGuid():N}", DatasetId = poolId, SeedModel = new("sim-judge"), Seed = seed },
            cancellationToken: Ct);
        await using var db = host.Db();
        var eligible = new List<long>();
        var others = new List<long>();
        for (var i = 0; i < pairs + heldOut + failed; i++)
        {
            var pair = new Pair
            {
                ExperimentId = created.Id,
                Method = PairMethod.Labeled,
                Prompt = $"Question {i:D3}: explain step {i} of the proof.",
                Chosen = $"Step {i} follows from the previous one because both sides are equal.",
                Rejected = i < pairs + heldOut ? $"Step {i} is obvious. {SimGeneratorMark}" : null,
                Status = i < pairs + heldOut ? PairStatus.Ready : PairStatus.Failed,
                HeldOut = i >= pairs && i < pairs + heldOut,
                CreatedAt = DateTime.UtcNow,
            };
            db.Pairs.Add(pair);
            await db.SaveChangesAsync(Ct);
            (i < pairs ? eligible : others).Add(pair.Id);
        }
        return (created.Id, (eligible, others));
    }

    /// <summary>The closing sentence by which SimBackend recognizes a worse answer it wrote (see its README).</summary>
    private const string SimGeneratorMark = "That is the gist of it.";
}
