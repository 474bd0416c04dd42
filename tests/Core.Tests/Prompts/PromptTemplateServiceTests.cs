using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Tests.Prompts;

/// <summary>Copying, listing, deleting and choosing template versions against a real, migrated SQLite file.</summary>
public sealed class PromptTemplateServiceTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly DateTime Now = new(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc);

    private readonly TempDatabase _temp = new();
    private readonly PromptTemplateService _service;

    public PromptTemplateServiceTests() => _service = new PromptTemplateService(_temp.Factory, new FixedTime(Now));

    public void Dispose() => _temp.Dispose();

    private async Task<IReadOnlyDictionary<string, PromptTemplate>> InitializeAsync()
    {
        await _temp.InitializeAsync();
        await using var db = _temp.Create();
        return await PromptTemplateStore.EnsureAllBuiltInAsync(db, Now, Ct);
    }

    private static TemplateEdit JudgeEdit(string name, string extra = " Think step by step.")
    {
        var text = PromptLibrary.Get(PromptLibrary.JudgePairwise);
        return new TemplateEdit(name, text.SystemText + extra, text.UserText);
    }

    [Fact]
    public async Task CopyAsync_StoresTheNextVersionOfTheFamily_WithItsParentAndHash()
    {
        var builtIn = (await InitializeAsync())[PromptLibrary.JudgePairwise];

        var copy = await _service.CopyAsync(builtIn.Id, JudgeEdit("  step by step  "), Ct);
        var second = await _service.CopyAsync(copy.Summary.Id, JudgeEdit("shorter", " Be brief."), Ct);

        Assert.Equal((2, "step by step", false, builtIn.Id, 1), (copy.Summary.Version, copy.Summary.Name, copy.Summary.IsBuiltIn, copy.Summary.ParentId, copy.Summary.ParentVersion));
        Assert.Equal((3, copy.Summary.Id, 2), (second.Summary.Version, second.Summary.ParentId, second.Summary.ParentVersion));
        Assert.EndsWith("Think step by step.", copy.SystemText);
        Assert.Equal(PromptTemplateRules.ContentHash(copy.SystemText, copy.UserText), copy.Summary.ContentHash);
        Assert.Contains("Copy of version 1", copy.Summary.Source);
        Assert.Equal(["instruction", "response A", "response B"], copy.Summary.Placeholders);
        Assert.True(copy.Summary.Deletable);
        // The built-in row is untouched.
        await using var db = _temp.Create();
        var stored = await db.PromptTemplates.AsNoTracking().SingleAsync(t => t.Id == builtIn.Id, Ct);
        Assert.Equal((builtIn.ContentHash, builtIn.SystemText, 1), (stored.ContentHash, stored.SystemText, stored.Version));
    }

    [Fact]
    public async Task CopyAsync_RefusesIdenticalText_NamingTheVersion_AndStoresNothing()
    {
        var builtIn = (await InitializeAsync())[PromptLibrary.JudgePairwise];
        var text = PromptLibrary.Get(PromptLibrary.JudgePairwise);

        // Only the line endings differ from the built-in: the same prompt.
        var ex = await Assert.ThrowsAsync<PromptTemplateException>(() =>
            _service.CopyAsync(builtIn.Id, new TemplateEdit("same", text.SystemText!.Replace("\n", "\r\n"), text.UserText.Replace("\n", "\r\n")), Ct));

        Assert.Equal(TemplateProblemKind.Conflict, ex.Kind);
        Assert.Contains("identical to version 1 of judge-pairwise", ex.Message);
        await using var db = _temp.Create();
        Assert.Equal(PromptLibrary.BuiltInKeys.Count, await db.PromptTemplates.CountAsync(Ct));
    }

    [Fact]
    public async Task CopyAsync_RefusesAnInvalidEdit_ByField_AndStoresNothing()
    {
        var builtIn = (await InitializeAsync())[PromptLibrary.PairSynthesis];

        var ex = await Assert.ThrowsAsync<PromptTemplateException>(() =>
            _service.CopyAsync(builtIn.Id, new TemplateEdit("bad", null, "Rewrite {Instruction} as {instruction}."), Ct));
        var unknown = await Assert.ThrowsAsync<PromptTemplateException>(() => _service.CopyAsync(9999, JudgeEdit("x"), Ct));

        Assert.Equal(TemplateProblemKind.Invalid, ex.Kind);
        Assert.Contains("userText lacks {Baseline Response}", ex.Message);
        Assert.Contains("userText has {instruction}", ex.Message);
        Assert.Equal(["userText"], ex.Errors.Keys);
        Assert.Equal(TemplateProblemKind.NotFound, unknown.Kind);
        await using var db = _temp.Create();
        Assert.Equal(PromptLibrary.BuiltInKeys.Count, await db.PromptTemplates.CountAsync(Ct));
    }

    [Fact]
    public async Task ListAsync_GroupsByKeyNewestFirst_WithRequiredPlaceholdersAndUsage()
    {
        var builtIns = await InitializeAsync();
        var copy = await _service.CopyAsync(builtIns[PromptLibrary.JudgePairwise].Id, JudgeEdit("mine"), Ct);
        var (_, iteration, _) = await SeedIterationAsync(copy.Summary.Id, annotations: 2);

        var families = await _service.ListAsync(Ct);

        Assert.Equal(PromptLibrary.BuiltInKeys.Order(StringComparer.Ordinal), families.Select(f => f.Key));
        var judge = families.Single(f => f.Key == PromptLibrary.JudgePairwise);
        Assert.Equal([2, 1], judge.Versions.Select(v => v.Version));
        Assert.Equal(["instruction", "response A", "response B"], judge.RequiredPlaceholders);
        Assert.Equal((1, 2, 3), (judge.Versions[0].Usage.Iterations, judge.Versions[0].Usage.Annotations, judge.Versions[0].Usage.Total));
        Assert.Equal("2 judged pairs, 1 iteration's judge", judge.Versions[0].Usage.Describe());
        Assert.False(judge.Versions[0].Deletable);
        Assert.Equal("not used", judge.Versions[1].Usage.Describe());
        Assert.False(judge.Versions[1].Deletable); // built in
        Assert.True(iteration > 0);
    }

    [Fact]
    public async Task DeleteAsync_RemovesAnUnusedCustomVersion_AndRefusesBuiltInsUsedVersionsAndParents()
    {
        var builtIns = await InitializeAsync();
        var judge = builtIns[PromptLibrary.JudgePairwise];
        var unused = await _service.CopyAsync(judge.Id, JudgeEdit("unused", " A."), Ct);
        var used = await _service.CopyAsync(judge.Id, JudgeEdit("used", " B."), Ct);
        var parent = await _service.CopyAsync(judge.Id, JudgeEdit("parent", " C."), Ct);
        var child = await _service.CopyAsync(parent.Summary.Id, JudgeEdit("child", " D."), Ct);
        await SeedIterationAsync(used.Summary.Id, annotations: 0);

        var builtIn = await Assert.ThrowsAsync<PromptTemplateException>(() => _service.DeleteAsync(judge.Id, Ct));
        var inUse = await Assert.ThrowsAsync<PromptTemplateException>(() => _service.DeleteAsync(used.Summary.Id, Ct));
        var isParent = await Assert.ThrowsAsync<PromptTemplateException>(() => _service.DeleteAsync(parent.Summary.Id, Ct));
        var missing = await Assert.ThrowsAsync<PromptTemplateException>(() => _service.DeleteAsync(9999, Ct));
        await _service.DeleteAsync(unused.Summary.Id, Ct);
        await _service.DeleteAsync(child.Summary.Id, Ct);
        await _service.DeleteAsync(parent.Summary.Id, Ct);

        Assert.Equal(TemplateProblemKind.Conflict, builtIn.Kind);
        Assert.Contains("is built in", builtIn.Message);
        Assert.Equal(TemplateProblemKind.Conflict, inUse.Kind);
        Assert.Contains("Version 3 of judge-pairwise (“used”) is used by the judge of iteration 1 of experiment", inUse.Message);
        Assert.Contains("(“templates”)", inUse.Message);
        Assert.Contains("is the parent of version 5", isParent.Message);
        Assert.Equal(TemplateProblemKind.NotFound, missing.Kind);
        await using var db = _temp.Create();
        Assert.Equal([1, 3], await db.PromptTemplates.Where(t => t.Key == PromptLibrary.JudgePairwise).OrderBy(t => t.Version).Select(t => t.Version).ToListAsync(Ct));
    }

    [Fact]
    public async Task DeleteAsync_RefusesAVersionOnlyAJudgmentSampleOrExperimentSettingsName()
    {
        var builtIns = await InitializeAsync();
        var judge = builtIns[PromptLibrary.JudgePairwise];
        var sampleOnly = await _service.CopyAsync(judge.Id, JudgeEdit("sample", " S."), Ct);
        var response = await _service.CopyAsync(builtIns[PromptLibrary.ResponseGeneration].Id, new TemplateEdit("polite", "Be polite.", "{instruction}"), Ct);
        var (experimentId, iterationId, pairIds) = await SeedIterationAsync(null, annotations: 1);
        await using (var db = _temp.Create())
        {
            var annotation = await db.Annotations.SingleAsync(Ct);
            db.JudgmentSamples.Add(new JudgmentSample { AnnotationId = annotation.Id, IterationId = iterationId, PairId = pairIds[0], SampleIndex = 0, TemplateId = sampleOnly.Summary.Id, CreatedAt = Now });
            var experiment = await db.Experiments.SingleAsync(e => e.Id == experimentId, Ct);
            experiment.SettingsJson = new ExperimentSettings { Generation = new GenerationSettings { ResponseTemplateId = response.Summary.Id } }.ToJson();
            await db.SaveChangesAsync(Ct);
        }

        var bySample = await Assert.ThrowsAsync<PromptTemplateException>(() => _service.DeleteAsync(sampleOnly.Summary.Id, Ct));
        var bySettings = await Assert.ThrowsAsync<PromptTemplateException>(() => _service.DeleteAsync(response.Summary.Id, Ct));

        Assert.Contains("is used by judgment samples", bySample.Message);
        Assert.Contains($"the generation settings of experiment {experimentId} (“templates”)", bySettings.Message);
        Assert.Equal(1, (await _service.GetAsync(response.Summary.Id, Ct))!.Summary.Usage.Experiments);
    }

    [Fact]
    public async Task SetIterationJudgeTemplateAsync_ChoosesAJudgeVersion_UntilTheIterationHasJudged()
    {
        var builtIns = await InitializeAsync();
        var copy = await _service.CopyAsync(builtIns[PromptLibrary.JudgePairwise].Id, JudgeEdit("mine"), Ct);
        var (experimentId, iterationId, _) = await SeedIterationAsync(null, annotations: 0);

        var chosen = await _service.SetIterationJudgeTemplateAsync(experimentId, 1, copy.Summary.Id, Ct);
        var wrongKey = await Assert.ThrowsAsync<PromptTemplateException>(() =>
            _service.SetIterationJudgeTemplateAsync(experimentId, 1, builtIns[PromptLibrary.PairSynthesis].Id, Ct));
        var noIteration = await Assert.ThrowsAsync<PromptTemplateException>(() => _service.SetIterationJudgeTemplateAsync(experimentId, 2, copy.Summary.Id, Ct));
        var noTemplate = await Assert.ThrowsAsync<PromptTemplateException>(() => _service.SetIterationJudgeTemplateAsync(experimentId, 1, 9999, Ct));

        Assert.Equal(new IterationJudgeTemplate(1, copy.Summary.Id, 2, "mine"), chosen);
        Assert.Equal(TemplateProblemKind.Invalid, wrongKey.Kind);
        Assert.Contains("needs a judge-pairwise template", wrongKey.Message);
        Assert.Equal((TemplateProblemKind.NotFound, TemplateProblemKind.NotFound), (noIteration.Kind, noTemplate.Kind));
        await using (var db = _temp.Create())
            Assert.Equal(copy.Summary.Id, (await db.Iterations.SingleAsync(i => i.Id == iterationId, Ct)).JudgeTemplateId);

        // A judge run under way, then a judged pair: the template is fixed.
        await using (var db = _temp.Create())
        {
            db.StageRuns.Add(new StageRun { Kind = StageKind.Judge, ExperimentId = experimentId, IterationId = iterationId, Status = StageStatus.Running, CreatedAt = Now });
            await db.SaveChangesAsync(Ct);
        }
        var running = await Assert.ThrowsAsync<PromptTemplateException>(() => _service.SetIterationJudgeTemplateAsync(experimentId, 1, null, Ct));
        await using (var db = _temp.Create())
        {
            await db.StageRuns.ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, StageStatus.Cancelled), Ct);
            var pair = await db.Pairs.FirstAsync(Ct);
            db.Annotations.Add(new Annotation { IterationId = iterationId, PairId = pair.Id, JudgePrompt = "p", TemplateId = copy.Summary.Id, CreatedAt = Now });
            await db.SaveChangesAsync(Ct);
        }
        var judged = await Assert.ThrowsAsync<PromptTemplateException>(() => _service.SetIterationJudgeTemplateAsync(experimentId, 1, null, Ct));
        var same = await _service.SetIterationJudgeTemplateAsync(experimentId, 1, copy.Summary.Id, Ct);

        Assert.Equal(TemplateProblemKind.Conflict, running.Kind);
        Assert.Contains("is being judged", running.Message);
        Assert.Equal(TemplateProblemKind.Conflict, judged.Kind);
        Assert.Contains("has already judged 1 pair", judged.Message);
        Assert.Equal(copy.Summary.Id, same.TemplateId);
        await using (var db = _temp.Create())
            Assert.Equal(copy.Summary.Id, (await db.Iterations.SingleAsync(i => i.Id == iterationId, Ct)).JudgeTemplateId);
    }

    [Fact]
    public async Task SetIterationJudgeTemplateAsync_WithNull_ReturnsToTheBuiltIn()
    {
        var builtIns = await InitializeAsync();
        var copy = await _service.CopyAsync(builtIns[PromptLibrary.JudgePairwise].Id, JudgeEdit("mine"), Ct);
        var (experimentId, iterationId, _) = await SeedIterationAsync(copy.Summary.Id, annotations: 0);

        var reset = await _service.SetIterationJudgeTemplateAsync(experimentId, 1, null, Ct);

        Assert.Equal(new IterationJudgeTemplate(1, null, null, null), reset);
        await using var db = _temp.Create();
        Assert.Null((await db.Iterations.SingleAsync(i => i.Id == iterationId, Ct)).JudgeTemplateId);
    }

    /// <summary>An experiment "templates" with iteration 1 (judge template <paramref name="judgeTemplateId"/>) and annotated pairs.</summary>
    private async Task<(long ExperimentId, long IterationId, List<long> PairIds)> SeedIterationAsync(long? judgeTemplateId, int annotations)
    {
        await using var db = _temp.Create();
        var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, CreatedAt = Now };
        var experiment = new Experiment { Name = "templates", InstructionDataset = dataset, SeedModel = "m", GeneratorModel = "m", JudgeModel = "m", Seed = 1, CreatedAt = Now };
        var iteration = new Iteration { Experiment = experiment, Number = 1, JudgeModel = "m", JudgeTemplateId = judgeTemplateId, CreatedAt = Now };
        var pairs = Enumerable.Range(0, Math.Max(1, annotations)).Select(i => new Pair
        {
            Experiment = experiment, Method = PairMethod.Labeled, Prompt = $"x{i}", Chosen = "w", Rejected = "l", Status = PairStatus.Ready, CreatedAt = Now,
        }).ToList();
        db.AddRange(dataset, experiment, iteration);
        db.Pairs.AddRange(pairs);
        await db.SaveChangesAsync(Ct);
        db.Annotations.AddRange(pairs.Take(annotations).Select(p => new Annotation
        {
            IterationId = iteration.Id, PairId = p.Id, JudgePrompt = "p", TemplateId = judgeTemplateId, CreatedAt = Now,
        }));
        await db.SaveChangesAsync(Ct);
        return (experiment.Id, iteration.Id, [.. pairs.Select(p => p.Id)]);
    }

    private sealed class FixedTime(DateTime now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(now, TimeSpan.Zero);
    }
}
