using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Import;
using SelfTaught.Core.Pairs;
using SelfTaught.Core.Prompts;
using SelfTaught.Core.Stages;
using SelfTaught.SimBackend;

namespace SelfTaught.Jobs.Tests;

/// <summary>
/// The experiment <c>generate-pairs</c> stage on the real engine, Hangfire's in-memory queue, a real SQLite file and
/// the real Ollama and OpenAI clients talking to SimBackend on loopback.
/// </summary>
[Collection(HangfireHostCollection.Name)]
public sealed class GeneratePairsStageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Protocol(SimServer sim, string kind) => kind == "Ollama"
        ? new() { ["Inference:Endpoints:0:Kind"] = "Ollama", ["Inference:Endpoints:0:BaseUrl"] = sim.BaseUri }
        : new() { ["Inference:Endpoints:0:Kind"] = "OpenAICompatible", ["Inference:Endpoints:0:BaseUrl"] = sim.OpenAIBaseUri.ToString() };

    [Theory]
    [InlineData("Ollama", PairMethod.ModifiedInstruction)]
    [InlineData("OpenAICompatible", PairMethod.ModifiedInstruction)]
    [InlineData("Ollama", PairMethod.WorseResponse)]
    [InlineData("OpenAICompatible", PairMethod.WorseResponse)]
    public async Task SyntheticPairs_AreParsed_AndStoredWithSeedsTemplatesAndGenerator(string protocol, PairMethod method)
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim, Protocol(sim, protocol));
        var pool = await host.SeedInstructionsAsync(30);
        var experimentId = await NewExperimentAsync(host, pool, "e", seed: 11);
        await SelectAsync(host, experimentId, pool, excluded: row => row % 10 == 9);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();

        var estimate = await stages.EstimateGeneratePairsAsync(experimentId, new GeneratePairsRequest { Method = method }, Ct);
        var run = await stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest { Method = method }, Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        Assert.Equal((StageStatus.Completed, 27, 27, 0), (finished.Status, finished.Total, finished.Done, finished.Failed));
        Assert.Equal((54L, 27L, 54L * 2048), (estimate.Calls, estimate.Items, estimate.MaxCompletionTokens));
        await using var db = host.Db();
        var pairs = await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId).ToListAsync(Ct);
        var rows = await db.Instructions.AsNoTracking().Where(i => i.DatasetId == pool).ToDictionaryAsync(i => i.Id, Ct);
        var templates = await db.PromptTemplates.AsNoTracking().ToDictionaryAsync(t => t.Id, t => t.Key, Ct);
        Assert.Equal(27, pairs.Count);
        Assert.DoesNotContain(pairs, p => rows[p.InstructionId!.Value].RowIndex % 10 == 9);
        foreach (var pair in pairs)
        {
            Assert.Equal((PairStatus.Ready, method, 1, null), (pair.Status, pair.Method, pair.Attempts, pair.Error));
            Assert.Equal(rows[pair.InstructionId!.Value].Text, pair.Prompt);
            Assert.StartsWith("(simulated response)", pair.Chosen, StringComparison.Ordinal);
            // y_l is the simulator's own worse answer (it ends every one with this sentence), cut out of the raw text.
            Assert.EndsWith("That is the gist of it.", pair.Rejected, StringComparison.Ordinal);
            Assert.DoesNotContain("[The", pair.Rejected, StringComparison.Ordinal);
            Assert.Contains(pair.Rejected!, pair.RawOutput!, StringComparison.Ordinal);
            if (method == PairMethod.ModifiedInstruction)
            {
                Assert.False(string.IsNullOrWhiteSpace(pair.ModifiedPrompt));
                Assert.DoesNotContain("User Question Modified", pair.ModifiedPrompt, StringComparison.Ordinal);
                Assert.Equal(PromptLibrary.PairSynthesis, templates[pair.TemplateId!.Value]);
            }
            else
            {
                Assert.Null(pair.ModifiedPrompt);
                Assert.Equal(PromptLibrary.WorseResponseRewrite, templates[pair.TemplateId!.Value]);
            }
            Assert.Equal(PromptLibrary.ResponseGeneration, templates[pair.ResponseTemplateId!.Value]);
            Assert.Equal(("sim-generator", "sim", run.Id), (pair.GeneratorModel, pair.GeneratorEndpoint, pair.StageRunId));
            Assert.True(pair.PromptTokens > 0 && pair.CompletionTokens > 0);
            Assert.Equal(PairSeeds.IsHeldOut(11, method, rows[pair.InstructionId.Value].RowIndex, 0.05), pair.HeldOut);
        }
        Assert.Equal(pairs.Sum(p => (long)p.PromptTokens), finished.PromptTokens);

        // Two requests per pair, each with its own derived seed and the generator's sampling settings.
        var requests = GeneratorRequests(sim);
        Assert.Equal(54, requests.Count);
        var expectedSeeds = pairs.SelectMany(p => new[] { PairSeeds.ResponseStep, PairSeeds.RejectedStep }
            .Select(step => Seeds.Derive(11, SeedStreams.Generation, (long)method, rows[p.InstructionId!.Value].RowIndex, step, 0))).Order();
        Assert.Equal(expectedSeeds, requests.Select(r => r.Seed!.Value).Order());
        Assert.All(requests, r => Assert.Equal((0.7, 0.9, 2048, "sim-generator"), (Math.Round(r.Temperature!.Value, 3), Math.Round(r.TopP!.Value, 3), r.MaxTokens, r.Model)));
        var details = JsonSerializer.Deserialize<SyntheticPairDetails>(pairs[0].DetailsJson!, StageJson.Options)!;
        Assert.Equal(PairSeeds.Request(11, method, rows[pairs[0].InstructionId!.Value].RowIndex, PairSeeds.RejectedStep, 0), Assert.Single(details.RejectedSeeds));
    }

    [Fact]
    public async Task OutputsWithoutMarkers_AreAskedAgain_ThenStoredAsFailedWithTheirRawText()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { MalformedRate = 0.5 }, Ct);
        await using var host = await StageHost.StartAsync(sim);
        var pool = await host.SeedInstructionsAsync(60);
        var experimentId = await NewExperimentAsync(host, pool, "e", seed: 3);
        await SelectAsync(host, experimentId, pool);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();

        var run = await stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest { MaxAttempts = 2 }, Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        Assert.Equal((StageStatus.Completed, 60, 0), (finished.Status, finished.Done, finished.Failed));
        await using var db = host.Db();
        var pairs = await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId).ToListAsync(Ct);
        var failed = pairs.Where(p => p.Status == PairStatus.Failed).ToList();
        var retried = pairs.Where(p => p.Status == PairStatus.Ready && p.Attempts == 2).ToList();
        // Half the outputs lose their markers: about a quarter of the pairs fail twice, a quarter succeed on the second try.
        Assert.InRange(failed.Count, 5, 27);
        Assert.InRange(retried.Count, 5, 27);
        foreach (var pair in failed)
        {
            Assert.Equal(2, pair.Attempts);
            Assert.Null(pair.Rejected);
            Assert.Null(pair.ModifiedPrompt);
            Assert.StartsWith("Missing markers: 'User Question Modified'", pair.Error, StringComparison.Ordinal);
            Assert.EndsWith("in the pair synthesis output, after 2 attempts.", pair.Error, StringComparison.Ordinal);
            // The whole raw text of the last attempt, as the simulator wrote it without markers.
            Assert.StartsWith("(simulated response)\nHere is a modified question:", pair.RawOutput, StringComparison.Ordinal);
            Assert.EndsWith("That is the gist of it.", pair.RawOutput, StringComparison.Ordinal);
            Assert.NotNull(pair.Chosen);
        }
        Assert.All(retried, p => Assert.Contains("attempt 1: missing markers", p.DetailsJson, StringComparison.Ordinal));
        // Every attempt is one request, besides y_w: nothing more, nothing less.
        Assert.Equal(60 + pairs.Sum(p => p.Attempts), GeneratorRequests(sim).Count);
    }

    [Fact]
    public async Task ChosenTemplateVersions_RenderTheRequests_AndAreStoredWithEachPair()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var pool = await host.SeedInstructionsAsync(4);
        var experimentId = await NewExperimentAsync(host, pool, "templates", seed: 6);
        await SelectAsync(host, experimentId, pool);
        var templates = host.Host.Services.GetRequiredService<SelfTaught.Core.Prompts.PromptTemplateService>();
        long builtInResponse, builtInSynthesis;
        await using (var db = host.Db())
        {
            builtInResponse = await db.PromptTemplates.Where(t => t.Key == SelfTaught.Core.Prompts.PromptLibrary.ResponseGeneration).Select(t => t.Id).SingleAsync(Ct);
            builtInSynthesis = await db.PromptTemplates.Where(t => t.Key == SelfTaught.Core.Prompts.PromptLibrary.PairSynthesis).Select(t => t.Id).SingleAsync(Ct);
        }
        var source = (await templates.GetAsync(builtInResponse, Ct))!;
        var copy = await templates.CopyAsync(builtInResponse, new SelfTaught.Core.Prompts.TemplateEdit("terse", source.SystemText, source.UserText + "\nAnswer in one paragraph."), Ct);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();

        var wrongFamily = await Assert.ThrowsAsync<ExperimentStageException>(() =>
            stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest { SynthesisTemplateId = copy.Summary.Id }, Ct));
        var run = await stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest { ResponseTemplateId = copy.Summary.Id }, Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        Assert.Contains("is a 'response-generation' template, not a 'pair-synthesis' one", wrongFamily.Message, StringComparison.Ordinal);
        Assert.Equal(StageStatus.Completed, finished.Status);
        await using var check = host.Db();
        var pairs = await check.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId).ToListAsync(Ct);
        Assert.Equal(4, pairs.Count);
        Assert.All(pairs, p => Assert.Equal((copy.Summary.Id, builtInSynthesis), (p.ResponseTemplateId!.Value, p.TemplateId!.Value)));
        // The y_w requests carried the edited text.
        Assert.Equal(4, GeneratorRequests(sim).Count(r => r.Messages.Any(m => m.Content.EndsWith("Answer in one paragraph.", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task HeldOutShare_FollowsTheSeededDraw_AndAReplacingRerunAgrees()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var pool = await host.SeedInstructionsAsync(300);
        var experimentId = await NewExperimentAsync(host, pool, "e", seed: 21);
        await SelectAsync(host, experimentId, pool);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();
        var request = new GeneratePairsRequest { HeldOutShare = 0.1, MaxTokens = 64 };

        await host.WaitForAsync((await stages.StartGeneratePairsAsync(experimentId, request, Ct)).Id, r => r.Status == StageStatus.Completed);
        var first = await HeldOutAsync(host, experimentId);
        var again = await stages.StartGeneratePairsAsync(experimentId, request with { Replace = true }, Ct);
        await host.WaitForAsync(again.Id, r => r.Status == StageStatus.Completed);
        var second = await HeldOutAsync(host, experimentId);

        await using var db = host.Db();
        var expected = (await db.Instructions.AsNoTracking().Where(i => i.DatasetId == pool).ToListAsync(Ct))
            .Where(i => Seeds.Derive(21, SeedStreams.HeldOut, (long)PairMethod.ModifiedInstruction, i.RowIndex) / (double)(1L << 31) < 0.1)
            .Select(i => i.Id).Order().ToList();
        Assert.Equal(expected, first);
        // 300 draws at 10%: mean 30, standard deviation about 5.
        Assert.InRange(first.Count, 15, 45);
        Assert.Equal(first, second);
        Assert.Equal(300, await db.Pairs.CountAsync(p => p.ExperimentId == experimentId && p.StageRunId == again.Id, Ct));
        // The experiment records the settings its pairs were made with.
        var settings = ExperimentSettings.FromJson((await db.Experiments.AsNoTracking().SingleAsync(e => e.Id == experimentId, Ct)).SettingsJson);
        Assert.Equal((0.1, 64), (settings.Generation.HeldOutShare, settings.Generation.MaxTokens));
    }

    [Fact]
    public async Task ARerunChunk_MakesNoCallsForStoredPairs_AndAWrittenPairIsNeverDuplicated()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var pool = await host.SeedInstructionsAsync(20);
        var experimentId = await NewExperimentAsync(host, pool, "e", seed: 8);
        await SelectAsync(host, experimentId, pool);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();
        var run = await stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest(), Ct);
        await host.WaitForAsync(run.Id, r => r.Status == StageStatus.Completed);
        var calls = GeneratorRequests(sim).Count;

        // As after a crash: the run is still marked running and a chunk job runs again over every item.
        await using (var db = host.Db())
            await db.StageRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, StageStatus.Running), Ct);
        await host.Engine.RunChunkAsync(run.Id, 0, long.MaxValue, Ct);
        var rerun = await host.RunAsync(run.Id);

        Assert.Equal(calls, GeneratorRequests(sim).Count);
        Assert.Equal((StageStatus.Completed, 20, 0), (rerun.Status, rerun.Done, rerun.Skipped));

        // Two writers that both processed an item (concurrent chunks) store it once: the unique key skips the second.
        await using (var db = host.Db())
        {
            var stage = host.Host.Services.GetRequiredService<GeneratePairsStage>();
            var execution = await stage.PrepareAsync(db, await db.StageRuns.SingleAsync(r => r.Id == run.Id, Ct), Ct);
            var item = (await execution.ListItemsAsync(db, Ct))[0];
            var outcome = await execution.ProcessAsync(item, Ct);
            await execution.WriteAsync(db, [outcome], Ct);
            await execution.WriteAsync(db, [outcome], Ct);
        }
        await using var check = host.Db();
        Assert.Equal(20, await check.Pairs.CountAsync(p => p.ExperimentId == experimentId, Ct));
        Assert.Equal(20, await check.Pairs.Where(p => p.ExperimentId == experimentId).Select(p => p.InstructionId).Distinct().CountAsync(Ct));
    }

    [Fact]
    public async Task ABackendThatIsDown_FailsItems_WhichRetryFailedMakesLater()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { Rate500 = 1 }, Ct);
        await using var host = await StageHost.StartAsync(sim);
        var pool = await host.SeedInstructionsAsync(6);
        var experimentId = await NewExperimentAsync(host, pool, "e", seed: 4);
        await SelectAsync(host, experimentId, pool);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();

        var run = await stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest(), Ct);
        var failed = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);
        await using (var db = host.Db())
        {
            Assert.Equal((6, 0), (failed.Failed, await db.Pairs.CountAsync(p => p.ExperimentId == experimentId, Ct)));
            Assert.All(await db.StageRunFailures.Where(f => f.StageRunId == run.Id).ToListAsync(Ct),
                f => Assert.StartsWith("The generator call failed:", f.Message, StringComparison.Ordinal));
        }

        sim.Options.Rate500 = 0;
        Assert.Equal(6, await host.Engine.RetryFailedAsync(run.Id, Ct));
        var retried = await host.WaitForAsync(run.Id, r => r.Status == StageStatus.Completed);

        Assert.Equal((6, 0), (retried.Done, retried.Failed));
        await using var after = host.Db();
        Assert.Equal(6, await after.Pairs.CountAsync(p => p.ExperimentId == experimentId && p.Status == PairStatus.Ready, Ct));
    }

    [Fact]
    public async Task HhRlhfPairs_AreMixedInAtTheRatio_FromTheSharedData_WithoutModelCalls()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim, Protocol(sim, "OpenAICompatible"));
        var hh = await ImportAsync(host, "hh-rlhf", ImportPreset.HhRlhf, "hh_rlhf", "harmless-base_test.jsonl.gz");
        var pool = await host.SeedInstructionsAsync(10);
        var experimentId = await NewExperimentAsync(host, pool, "e", seed: 17);
        await SelectAsync(host, experimentId, pool);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();
        // Paper Table 6 style: synthetic : hh-rlhf = 1 : 2.
        var request = new GeneratePairsRequest { Mix = [new PairMixSource { DatasetId = hh, Kind = PairMethod.HhRlhf, Ratio = 2 }] };

        var estimate = await stages.EstimateGeneratePairsAsync(experimentId, request, Ct);
        var run = await stages.StartGeneratePairsAsync(experimentId, request, Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        Assert.Equal((StageStatus.Completed, 30, 0), (finished.Status, finished.Done, finished.Failed));
        Assert.Equal((20L, 30L), (estimate.Calls, estimate.Items));
        Assert.Contains(estimate.Notes, n => n.StartsWith("20 HhRlhf pairs from dataset", StringComparison.Ordinal));
        Assert.Equal(20, GeneratorRequests(sim).Count);
        await using var db = host.Db();
        var mixed = await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId && p.Method == PairMethod.HhRlhf).ToListAsync(Ct);
        var source = await db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == hh).ToDictionaryAsync(p => p.Id, Ct);
        var expected = MixSelection.Choose(source.Values.Select(p => new MixCandidate(p.Id, p.RowIndex)), 20, 17, PairMethod.HhRlhf);
        Assert.Equal(expected, mixed.Select(p => p.SourceLabeledPairId!.Value).Order());
        foreach (var pair in mixed)
        {
            var row = source[pair.SourceLabeledPairId!.Value];
            Assert.Equal((PairStatus.Ready, row.Prompt, row.ResponseA, row.ResponseB), (pair.Status, pair.Prompt, pair.Chosen, pair.Rejected));
            Assert.Equal((null, null, null, null, 0), (pair.InstructionId, pair.TemplateId, pair.ResponseTemplateId, pair.GeneratorModel, pair.PromptTokens));
            Assert.Equal(PairSeeds.IsHeldOut(17, PairMethod.HhRlhf, row.RowIndex, 0.05), pair.HeldOut);
            Assert.Contains($"\"rowIndex\":{row.RowIndex}", pair.DetailsJson, StringComparison.Ordinal);
        }
        Assert.Equal(10, await db.Pairs.CountAsync(p => p.ExperimentId == experimentId && p.Method == PairMethod.ModifiedInstruction, Ct));
    }

    /// <summary>
    /// HelpSteer2 pairs, generated here in the dataset's format (rows 2k and 2k+1 answer one prompt): the weighted score
    /// (weights 0.65, 0.8, 0.45, 0.55, −0.4) picks the chosen response, also where the plain sum (the import's gold) says
    /// the opposite; pairs of equal weighted score are never drawn and are counted.
    /// </summary>
    [Fact]
    public async Task HelpSteer2Pairs_AreMixedInByWeightedScore_SkippingAndCountingTies_WithoutModelCalls()
    {
        // (scores of row 2k, scores of row 2k+1), each helpfulness, correctness, coherence, complexity, verbosity.
        (int[] A, int[] B)[] pairs =
        [
            ([1, 1, 1, 1, 4], [2, 2, 2, 1, 0]), // sum 8 vs 7 prefers A; weighted 0.85 vs 4.35 prefers B
            ([3, 3, 3, 3, 0], [3, 3, 3, 3, 4]), // sum 12 vs 16 prefers B; weighted 7.35 vs 5.75 prefers A
            ([2, 1, 2, 2, 1], [2, 2, 2, 2, 3]), // weighted tie (+0.8 correctness, −0.8 verbosity) though the sums differ: skipped
            ([4, 4, 4, 2, 1], [1, 1, 1, 1, 1]), // both prefer A
            ([3, 3, 3, 3, 3], [3, 3, 3, 3, 3]), // equal in every score: skipped
            ([0, 1, 1, 0, 0], [1, 1, 1, 1, 1]), // both prefer B
        ];
        var file = Path.Combine(Path.GetTempPath(), $"helpsteer2-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(file, pairs.SelectMany((p, k) => new[] { (Scores: p.A, Side: "a"), (Scores: p.B, Side: "b") }.Select(r =>
            JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["prompt"] = $"Prompt {k}", ["response"] = $"Response {k}{r.Side}",
                ["helpfulness"] = r.Scores[0], ["correctness"] = r.Scores[1], ["coherence"] = r.Scores[2], ["complexity"] = r.Scores[3], ["verbosity"] = r.Scores[4],
            }))), Ct);
        try
        {
            await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
            await using var host = await StageHost.StartAsync(sim, Protocol(sim, "OpenAICompatible"));
            var importer = host.Host.Services.GetRequiredService<DatasetImporter>();
            var helpSteer = (await importer.ImportNewAsync(
                new ImportRequest { Name = "helpsteer2", Source = new LocalFileSource(file), Preset = ImportPreset.HelpSteer2 }, cancellationToken: Ct)).DatasetId;
            var pool = await host.SeedInstructionsAsync(3);
            var experimentId = await NewExperimentAsync(host, pool, "e", seed: 23);
            var stages = host.Host.Services.GetRequiredService<ExperimentStages>();
            GeneratePairsRequest Mix(int count) => new()
            {
                IncludeSynthetic = false, Mix = [new PairMixSource { DatasetId = helpSteer, Kind = PairMethod.HelpSteer2, Count = count }],
            };

            // Only the 4 pairs with a better response can be drawn: asking for 5 is refused, naming the 2 ties.
            var tooMany = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartGeneratePairsAsync(experimentId, Mix(5), Ct));
            Assert.Contains("asks for 5 HelpSteer2 pairs", tooMany.Message, StringComparison.Ordinal);
            Assert.Contains("has only 4 usable rows (2 more cannot be used: equal weighted scores", tooMany.Message, StringComparison.Ordinal);
            var estimate = await stages.EstimateGeneratePairsAsync(experimentId, Mix(4), Ct);
            var run = await stages.StartGeneratePairsAsync(experimentId, Mix(4), Ct);
            var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

            Assert.Equal((StageStatus.Completed, 4, 0), (finished.Status, finished.Done, finished.Failed));
            Assert.Equal((0L, 4L, 0L), (estimate.Calls, estimate.Items, finished.PromptTokens + finished.CompletionTokens));
            Assert.Contains(estimate.Notes, n => n.Contains("2 rows cannot be used (equal weighted scores", StringComparison.Ordinal));
            var stored = JsonSerializer.Deserialize<GeneratePairsRunSettings>(finished.SettingsJson, StageJson.Options)!;
            Assert.Equal(new ResolvedMixSource(helpSteer, PairMethod.HelpSteer2, 4, Skipped: 2), Assert.Single(stored.Mix));
            Assert.DoesNotContain(sim.Stats.ChatRequests, r => r.Model != "sim-judge");
            Assert.Empty(GeneratorRequests(sim));

            await using var db = host.Db();
            var source = await db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == helpSteer).OrderBy(p => p.RowIndex).ToListAsync(Ct);
            Assert.Equal(6, source.Count);
            // The import's gold follows the plain sum; the mix must not: pair 0's gold is A, pair 1's B.
            Assert.Equal([GoldLabel.A, GoldLabel.B], source.Take(2).Select(p => p.Gold));
            var mixed = await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId).ToListAsync(Ct);
            Assert.All(mixed, p => Assert.Equal((PairMethod.HelpSteer2, PairStatus.Ready, null, 0), (p.Method, p.Status, p.GeneratorModel, p.PromptTokens)));
            var byPrompt = mixed.ToDictionary(p => p.Prompt, p => (p.Chosen, p.Rejected));
            Assert.Equal(["Prompt 0", "Prompt 1", "Prompt 3", "Prompt 5"], byPrompt.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(("Response 0b", "Response 0a"), byPrompt["Prompt 0"]);
            Assert.Equal(("Response 1a", "Response 1b"), byPrompt["Prompt 1"]);
            Assert.Equal(("Response 3a", "Response 3b"), byPrompt["Prompt 3"]);
            Assert.Equal(("Response 5b", "Response 5a"), byPrompt["Prompt 5"]);
            // Each pair keeps both responses' scores and weighted scores.
            var details = JsonSerializer.Deserialize<LabeledPairDetails>(mixed.Single(p => p.Prompt == "Prompt 0").DetailsJson!, StageJson.Options)!;
            Assert.Equal((Position.B, 0.85, 4.35), (details.ChosenResponse, Math.Round(details.WeightedA!.Value, 6), Math.Round(details.WeightedB!.Value, 6)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("Ollama")]
    [InlineData("OpenAICompatible")]
    public async Task GradedMathPairs_FromGsm8k_PairACorrectWithAnIncorrectSolution(string protocol)
    {
        var gsm8k = SharedData.File("gsm8k", "test.jsonl");
        await using var sim = await SimServer.StartAsync(new SimOptions { MathAnswerKey = SimOptions.LoadAnswerKey(gsm8k), MathAccuracy = 0.5 }, Ct);
        await using var host = await StageHost.StartAsync(sim, Protocol(sim, protocol));
        var questions = await ImportAsync(host, "gsm8k", ImportPreset.Gsm8k, "gsm8k", "test.jsonl");
        var experimentId = await NewExperimentAsync(host, questions, "math", seed: 2);
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();
        var request = new GeneratePairsRequest
        {
            IncludeSynthetic = false, MaxTokens = 256,
            Mix = [new PairMixSource { DatasetId = questions, Kind = PairMethod.GradedMath, Count = 16 }],
        };

        var estimate = await stages.EstimateGeneratePairsAsync(experimentId, request, Ct);
        var run = await stages.StartGeneratePairsAsync(experimentId, request, Ct);
        var finished = await host.WaitForAsync(run.Id, r => r.Status is StageStatus.Completed or StageStatus.Failed);

        Assert.Equal((StageStatus.Completed, 16, 0), (finished.Status, finished.Done, finished.Failed));
        Assert.Equal((64L, 16L, 64L * 256), (estimate.Calls, estimate.Items, estimate.MaxCompletionTokens));
        Assert.Equal(64, GeneratorRequests(sim).Count);
        await using var db = host.Db();
        var pairs = await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId).ToListAsync(Ct);
        var instructions = await db.Instructions.AsNoTracking().Where(i => i.DatasetId == questions).ToDictionaryAsync(i => i.Id, Ct);
        Assert.Equal(16, pairs.Count);
        foreach (var pair in pairs)
        {
            var question = instructions[pair.InstructionId!.Value];
            var details = JsonSerializer.Deserialize<GradedPairDetails>(pair.DetailsJson!, StageJson.Options)!;
            Assert.Equal((PairMethod.GradedMath, question.Text, MathAnswers.Normalize(question.ReferenceAnswer)), (pair.Method, pair.Prompt, details.Reference));
            Assert.Equal(4, details.Solutions.Count);
            Assert.Equal(details.Solutions.Select((_, k) => Seeds.Derive(2, SeedStreams.Generation, (long)PairMethod.GradedMath, question.RowIndex, k, 0)), details.Solutions.Select(s => s.Seed));
            // The stored grades are what the grader says of the stored texts.
            Assert.All(details.Solutions, s => Assert.Equal(MathAnswers.Grade(s.Index, s.Text, question.ReferenceAnswer).Correct, s.Correct));
            var correct = details.Solutions.Count(s => s.Correct);
            if (pair.Status == PairStatus.Ready)
            {
                Assert.Equal(details.Solutions[details.ChosenIndex!.Value].Text, pair.Chosen);
                Assert.Equal(details.Solutions[details.RejectedIndex!.Value].Text, pair.Rejected);
                Assert.Equal(MathAnswers.Normalize(question.ReferenceAnswer), MathAnswers.Extract(pair.Chosen));
                Assert.NotEqual(MathAnswers.Normalize(question.ReferenceAnswer), MathAnswers.Extract(pair.Rejected));
            }
            else
            {
                Assert.Equal(PairStatus.Failed, pair.Status);
                Assert.StartsWith(correct == 4 ? "No graded pair: all 4 solutions correct" : "No graded pair: none of 4 solutions correct", pair.Error, StringComparison.Ordinal);
                Assert.True(correct is 0 or 4);
                Assert.Null(pair.Chosen);
            }
        }
        // At MathAccuracy 0.5 a question has no pair with probability 2 / 16: most pairs are made.
        Assert.InRange(pairs.Count(p => p.Status == PairStatus.Ready), 9, 16);
    }

    [Fact]
    public async Task TheSameSeed_MakesIdenticalPairs_AndAnotherSeedOthers()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { MalformedRate = 0.2 }, Ct);
        await using var host = await StageHost.StartAsync(sim);
        var pool = await host.SeedInstructionsAsync(25);
        var hh = await ImportAsync(host, "hh-rlhf", ImportPreset.HhRlhf, "hh_rlhf", "harmless-base_test.jsonl.gz");
        var ids = new[] { await NewExperimentAsync(host, pool, "a", 5), await NewExperimentAsync(host, pool, "b", 5), await NewExperimentAsync(host, pool, "c", 6) };
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();
        var request = new GeneratePairsRequest { HeldOutShare = 0.3, Mix = [new PairMixSource { DatasetId = hh, Kind = PairMethod.HhRlhf, Count = 15 }] };
        foreach (var id in ids)
        {
            await SelectAsync(host, id, pool);
            await host.WaitForAsync((await stages.StartGeneratePairsAsync(id, request, Ct)).Id, r => r.Status == StageStatus.Completed);
        }

        await using var db = host.Db();
        async Task<List<string>> PairsOf(long id) => (await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == id)
                .OrderBy(p => p.Method).ThenBy(p => p.InstructionId).ThenBy(p => p.SourceLabeledPairId).ToListAsync(Ct))
            .Select(p => $"{p.Method}|{p.InstructionId}|{p.SourceLabeledPairId}|{p.ModifiedPrompt}|{p.Chosen}|{p.Rejected}|{p.Status}|{p.Attempts}|{p.HeldOut}|{p.RawOutput}").ToList();
        var a = await PairsOf(ids[0]);
        Assert.Equal(40, a.Count);
        Assert.Equal(a, await PairsOf(ids[1]));
        var c = await PairsOf(ids[2]);
        Assert.NotEqual(a, c);
        // Another seed draws other hh-rlhf rows, other texts and another held-out set.
        Assert.NotEqual(a.Where(p => p.StartsWith("HhRlhf", StringComparison.Ordinal)), c.Where(p => p.StartsWith("HhRlhf", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Start_RefusesWhatCannotWork_NamingTheProblem_AndKeepsWhatIsStored()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var host = await StageHost.StartAsync(sim);
        var pool = await host.SeedInstructionsAsync(5);
        var experimentId = await NewExperimentAsync(host, pool, "e", seed: 1);
        var hh = await ImportAsync(host, "hh-rlhf", ImportPreset.HhRlhf, "hh_rlhf", "harmless-base_test.jsonl.gz");
        var stages = host.Host.Services.GetRequiredService<ExperimentStages>();

        var missing = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartGeneratePairsAsync(999, new GeneratePairsRequest(), Ct));
        var noSelection = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest(), Ct));
        await SelectAsync(host, experimentId, pool, excluded: _ => true);
        var allExcluded = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.EstimateGeneratePairsAsync(experimentId, new GeneratePairsRequest(), Ct));
        await using (var db = host.Db())
            await db.ExperimentInstructions.Where(e => e.ExperimentId == experimentId).ExecuteUpdateAsync(s => s.SetProperty(e => e.Excluded, false), Ct);
        var wrongKind = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartGeneratePairsAsync(experimentId,
            new GeneratePairsRequest { Mix = [new PairMixSource { DatasetId = pool, Kind = PairMethod.HelpSteer2, Count = 1 }] }, Ct));
        var tooMany = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartGeneratePairsAsync(experimentId,
            new GeneratePairsRequest { Mix = [new PairMixSource { DatasetId = hh, Kind = PairMethod.HhRlhf, Count = 5_000 }] }, Ct));
        var badSettings = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest { MaxAttempts = 0, TopP = 0 }, Ct));

        Assert.True(missing.NotFound);
        Assert.Contains("has no selected instructions yet; run the select stage first", noSelection.Message, StringComparison.Ordinal);
        Assert.Contains("All 5 selected instructions of experiment", allExcluded.Message, StringComparison.Ordinal);
        Assert.StartsWith("mix[0].datasetId: Dataset", wrongKind.Message, StringComparison.Ordinal);
        Assert.Contains("is not a HelpSteer2 dataset", wrongKind.Message, StringComparison.Ordinal);
        Assert.Contains("mix[0].count asks for 5,000 HhRlhf pairs, but dataset", tooMany.Message, StringComparison.Ordinal);
        Assert.Contains("maxAttempts must be 1–10, not 0.", badSettings.Message, StringComparison.Ordinal);
        Assert.Contains("topP must be above 0 and at most 1, not 0.", badSettings.Message, StringComparison.Ordinal);
        Assert.False(noSelection.Conflict || noSelection.NotFound || wrongKind.Conflict || badSettings.Conflict);

        // Held while the first run is queued: a second start is a conflict.
        sim.HoldChatRequests();
        var run = await stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest(), Ct);
        var running = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest { Replace = true }, Ct));
        sim.ReleaseChatRequests();
        await host.WaitForAsync(run.Id, r => r.Status == StageStatus.Completed);
        var again = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest(), Ct));
        long iterationId;
        await using (var db = host.Db())
        {
            iterationId = await db.Iterations.Where(i => i.ExperimentId == experimentId).Select(i => i.Id).SingleAsync(Ct);
            var pairId = await db.Pairs.Where(p => p.ExperimentId == experimentId).Select(p => p.Id).FirstAsync(Ct);
            db.Annotations.Add(new Annotation { IterationId = iterationId, PairId = pairId, JudgePrompt = "judged", CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync(Ct);
        }
        var judged = await Assert.ThrowsAsync<ExperimentStageException>(() => stages.StartGeneratePairsAsync(experimentId, new GeneratePairsRequest { Replace = true }, Ct));

        Assert.True(running.Conflict);
        Assert.Contains("is already generating pairs", running.Message, StringComparison.Ordinal);
        Assert.True(again.Conflict);
        Assert.Contains("already has 5 pairs; choose replace", again.Message, StringComparison.Ordinal);
        Assert.True(judged.Conflict);
        Assert.Contains("have been judged by an iteration", judged.Message, StringComparison.Ordinal);
        await using var check = host.Db();
        Assert.Equal(5, await check.Pairs.CountAsync(p => p.ExperimentId == experimentId, Ct));
    }

    // The OpenAI endpoint is also probed (a tiny chat to the default model, sim-judge): only the generator's requests count.
    private static List<ReceivedRequest> GeneratorRequests(SimServer sim) =>
        [.. sim.Stats.ChatRequests.Where(r => r.Model == "sim-generator")];

    private static async Task<long> NewExperimentAsync(StageHost host, long pool, string name, long seed)
    {
        var experiments = new ExperimentService(host.Host.Services.GetRequiredService<IDbContextFactory<SelfTaughtDbContext>>(), TimeProvider.System);
        var experiment = await experiments.CreateAsync(new CreateExperimentRequest
        {
            Name = name, DatasetId = pool, SeedModel = new("sim-judge"), GeneratorModel = new("sim-generator"), Seed = seed,
        }, cancellationToken: Ct);
        return experiment.Id;
    }

    /// <summary>Stores a selection of the whole pool (what the select stage would store without filters).</summary>
    private static async Task SelectAsync(StageHost host, long experimentId, long pool, Func<int, bool>? excluded = null)
    {
        await using var db = host.Db();
        var rows = await db.Instructions.AsNoTracking().Where(i => i.DatasetId == pool).Select(i => new { i.Id, i.RowIndex }).ToListAsync(Ct);
        await db.InsertOrIgnoreAsync(rows.Select(r => new ExperimentInstruction
        {
            ExperimentId = experimentId, InstructionId = r.Id, Excluded = excluded?.Invoke(r.RowIndex) ?? false,
        }).ToList(), Ct);
    }

    private static async Task<List<long>> HeldOutAsync(StageHost host, long experimentId)
    {
        await using var db = host.Db();
        return await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId && p.HeldOut).Select(p => p.InstructionId!.Value).OrderBy(i => i).ToListAsync(Ct);
    }

    /// <summary>Imports a shared data file with the app's importer.</summary>
    private static async Task<long> ImportAsync(StageHost host, string name, ImportPreset preset, params string[] path)
    {
        var importer = host.Host.Services.GetRequiredService<DatasetImporter>();
        var result = await importer.ImportNewAsync(new ImportRequest { Name = name, Source = new LocalFileSource(SharedData.File(path)), Preset = preset }, cancellationToken: Ct);
        return result.DatasetId;
    }

}
