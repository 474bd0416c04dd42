using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Stages;
using SelfTaught.Web.Api;
using SelfTaught.Web.Components.Pages.Experiments;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>The Experiment page's generate-pairs panel over a real SQLite file; runs are recorded, not executed.</summary>
public sealed class GeneratePairsPanelTests : DatabaseBunitContext
{
    private readonly ManualTimeProvider _clock = new();

    public GeneratePairsPanelTests()
    {
        Services.AddSingleton<TimeProvider>(_clock);
        Services.AddSingleton<IStage, GeneratePairsStage>();
    }

    [Fact]
    public async Task Panel_ShowsTheEstimateBeforeStart_StartsTheRun_AndFollowsItsProgressAndCounts()
    {
        var (experimentId, instructions) = await SeedExperimentAsync(4, select: true);
        var cut = await RenderPanelAsync(experimentId);

        // No run can start before the cost of these settings is shown.
        Assert.True(cut.Find("#gp-start").HasAttribute("disabled"));
        Assert.Contains("Estimate the cost of these settings first", cut.Find("#gp-estimate-first").TextContent);
        await cut.InvokeAsync(() => cut.Find("#gp-estimate").Click());
        cut.WaitForAssertion(() => Assert.Contains("4 items: 8 calls", cut.Find("#gp-estimate-result").TextContent));
        Assert.Contains("at most 16,384 completion tokens", cut.Find("#gp-estimate-result").TextContent);
        Assert.False(cut.Find("#gp-start").HasAttribute("disabled"));

        // Changed settings need a new estimate.
        cut.FindComponents<MudBlazor.MudNumericField<int>>().Single(f => f.Instance.Label == "Max tokens").Find("input").Change("100");
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#gp-estimate-result")));
        Assert.True(cut.Find("#gp-start").HasAttribute("disabled"));
        await cut.InvokeAsync(() => cut.Find("#gp-estimate").Click());
        cut.WaitForAssertion(() => Assert.Contains("at most 800 completion tokens", cut.Find("#gp-estimate-result").TextContent));
        await cut.InvokeAsync(() => cut.Find("#gp-start").Click());

        StageRun run;
        await using (var db = Database.CreateContext())
            run = await db.StageRuns.AsNoTracking().SingleAsync(Cancellation);
        Assert.Equal([run.Id], Scheduler.Starts);
        Assert.Equal((StageKind.GeneratePairs, experimentId), (run.Kind, run.ExperimentId));
        Assert.Contains("\"maxTokens\":100", run.SettingsJson, StringComparison.Ordinal);
        cut.WaitForAssertion(() => Assert.Equal(run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), cut.Find("#gp-progress").GetAttribute("data-run-id")));
        Assert.Contains("Queued", cut.Find("#gp-progress").TextContent);
        cut.WaitForAssertion(() => Assert.Equal(1, _clock.ActiveTimers(GeneratePairsPanel.RefreshInterval)));

        // The run (in another process) stores half its pairs: the next tick shows the progress.
        await StorePairsAsync(experimentId, instructions.Take(2), run.Id);
        await UpdateRunAsync(run.Id, StageStatus.Running, done: 2);
        _clock.Fire(GeneratePairsPanel.RefreshInterval);
        cut.WaitForAssertion(() => Assert.Contains("2 made, 0 failed", cut.Find("#gp-progress-text").TextContent));
        Assert.Equal("50", cut.Find("#gp-progress-bar").GetAttribute("aria-valuenow"));

        // It finishes: one last reload with the counts, then no more polling.
        await StorePairsAsync(experimentId, instructions.Skip(2), run.Id);
        await UpdateRunAsync(run.Id, StageStatus.Completed, done: 4);
        _clock.Fire(GeneratePairsPanel.RefreshInterval);
        cut.WaitForAssertion(() => Assert.Contains("Completed", cut.Find("#gp-progress").TextContent));
        cut.WaitForAssertion(() => Assert.Equal(0, _clock.ActiveTimers(GeneratePairsPanel.RefreshInterval)));
        Assert.Equal(["All", "4", "2", "2", "1 (1 ready)"], cut.FindAll("#gp-counts-total > *").Select(c => c.TextContent.Trim()));
        Assert.Contains("Modified instruction (Fig. 2)", cut.Find("#gp-counts").TextContent);
        Assert.Equal($"/pairs?experiment={experimentId}", cut.Find("#gp-browse").GetAttribute("href"));
    }

    [Fact]
    public async Task Panel_SaysWhyItCannotStart_AndMixesInALabeledSource()
    {
        var (experimentId, _) = await SeedExperimentAsync(3, select: false);
        long hh;
        await using (var db = Database.CreateContext())
        {
            var dataset = new Dataset { Name = "hh-rlhf harmless", Role = DatasetRole.LabeledPairs, Preset = "hh-rlhf", Status = DatasetStatus.Ready, RowCount = 5, CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(Cancellation);
            hh = dataset.Id;
            db.LabeledPairs.AddRange(Enumerable.Range(0, 5).Select(i => new LabeledPair { DatasetId = hh, RowIndex = i, Prompt = $"q{i}", ResponseA = "good", ResponseB = "bad" }));
            await db.SaveChangesAsync(Cancellation);
        }
        var cut = await RenderPanelAsync(experimentId);

        await cut.InvokeAsync(() => cut.Find("#gp-estimate").Click());
        cut.WaitForAssertion(() => Assert.Contains("has no selected instructions yet; run the select stage first", cut.Find("#gp-error").TextContent));

        // Only labeled pairs: synthetic pairs off, one hh-rlhf source (its kind follows the dataset's preset).
        cut.FindComponents<MudBlazor.MudSwitch<bool>>().Single(s => s.Instance.Label!.StartsWith("From the", StringComparison.Ordinal)).Find("input").Change(false);
        await cut.InvokeAsync(() => cut.Find("#gp-add-source").Click());
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".gp-source")));
        await cut.InvokeAsync(() => cut.Find("#gp-estimate").Click());
        cut.WaitForAssertion(() => Assert.Contains("mix[0].count asks for 100 HhRlhf pairs, but dataset", cut.Find("#gp-error").TextContent));
        cut.FindComponents<MudBlazor.MudNumericField<int>>().Single(f => f.Instance.Label == "Pairs").Find("input").Change("3");
        await cut.InvokeAsync(() => cut.Find("#gp-estimate").Click());

        cut.WaitForAssertion(() => Assert.Contains("3 items: 0 calls", cut.Find("#gp-estimate-result").TextContent));
        Assert.Contains($"3 HhRlhf pairs from dataset {hh} ('hh-rlhf harmless'): no model calls.", cut.Find("#gp-estimate-result").TextContent);
        Assert.Empty(cut.FindAll("#gp-error"));
        await cut.InvokeAsync(() => cut.Find("#gp-start").Click());
        await using var check = Database.CreateContext();
        var run = await check.StageRuns.AsNoTracking().SingleAsync(Cancellation);
        Assert.Contains($"\"mix\":[{{\"datasetId\":{hh},\"kind\":\"HhRlhf\",\"count\":3,\"skipped\":0}}]", run.SettingsJson, StringComparison.Ordinal);
        Assert.Contains("\"includeSynthetic\":false", run.SettingsJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Panel_StartsWithTheTemplateVersionsChosen_BuiltInsByDefault()
    {
        var (experimentId, _) = await SeedExperimentAsync(2, select: true);
        await using (var db = Database.CreateContext())
            await SelfTaught.Core.Prompts.PromptTemplateStore.EnsureAllBuiltInAsync(db, DateTime.UtcNow, Cancellation);
        var templates = Services.GetRequiredService<SelfTaught.Core.Prompts.PromptTemplateService>();
        long builtInResponse, builtInSynthesis;
        await using (var db = Database.CreateContext())
        {
            builtInResponse = await db.PromptTemplates.Where(t => t.Key == SelfTaught.Core.Prompts.PromptLibrary.ResponseGeneration).Select(t => t.Id).SingleAsync(Cancellation);
            builtInSynthesis = await db.PromptTemplates.Where(t => t.Key == SelfTaught.Core.Prompts.PromptLibrary.PairSynthesis).Select(t => t.Id).SingleAsync(Cancellation);
        }
        var source = (await templates.GetAsync(builtInResponse, Cancellation))!;
        var copy = await templates.CopyAsync(builtInResponse, new SelfTaught.Core.Prompts.TemplateEdit("terse answers", source.SystemText, source.UserText + "\nBe brief."), Cancellation);
        var cut = await RenderPanelAsync(experimentId);

        var response = cut.FindComponents<MudBlazor.MudSelect<long?>>().Single(s => s.Instance.Label!.StartsWith("y_w template", StringComparison.Ordinal));
        await cut.InvokeAsync(() => response.Instance.ValueChanged.InvokeAsync(copy.Summary.Id));
        await cut.InvokeAsync(() => cut.Find("#gp-estimate").Click());
        cut.WaitForAssertion(() => Assert.False(cut.Find("#gp-start").HasAttribute("disabled")));
        await cut.InvokeAsync(() => cut.Find("#gp-start").Click());

        await using var check = Database.CreateContext();
        cut.WaitForAssertion(() => Assert.Equal(1, check.StageRuns.Count(r => r.Kind == StageKind.GeneratePairs)));
        var run = await check.StageRuns.SingleAsync(r => r.Kind == StageKind.GeneratePairs, Cancellation);
        Assert.Contains($"\"responseTemplateId\":{copy.Summary.Id}", run.SettingsJson, StringComparison.Ordinal);
        Assert.Contains($"\"synthesisTemplateId\":{builtInSynthesis}", run.SettingsJson, StringComparison.Ordinal);
    }

    private async Task<IRenderedComponent<GeneratePairsPanel>> RenderPanelAsync(long experimentId)
    {
        ExperimentView view;
        await using (var db = Database.CreateContext())
            view = (await ExperimentView.LoadAsync(db, experimentId, Cancellation))!;
        var cut = Render<GeneratePairsPanel>(p => p.Add(x => x.Experiment, view));
        cut.WaitForAssertion(() => cut.Find("#gp-estimate"));
        return cut;
    }

    private async Task<(long ExperimentId, List<long> Instructions)> SeedExperimentAsync(int count, bool select)
    {
        long pool;
        List<long> ids;
        await using (var db = Database.CreateContext())
        {
            var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = count, CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(Cancellation);
            pool = dataset.Id;
            db.Instructions.AddRange(Enumerable.Range(0, count).Select(i => new Instruction { DatasetId = pool, RowIndex = i, Text = $"Question {i}" }));
            await db.SaveChangesAsync(Cancellation);
            ids = await db.Instructions.Where(i => i.DatasetId == pool).OrderBy(i => i.Id).Select(i => i.Id).ToListAsync(Cancellation);
        }
        var experiment = await Services.GetRequiredService<ExperimentService>().CreateAsync(
            new CreateExperimentRequest { Name = "e", DatasetId = pool, SeedModel = new("m"), Seed = 3 }, cancellationToken: Cancellation);
        if (select)
        {
            await using var db = Database.CreateContext();
            db.ExperimentInstructions.AddRange(ids.Select(id => new ExperimentInstruction { ExperimentId = experiment.Id, InstructionId = id }));
            await db.SaveChangesAsync(Cancellation);
        }
        return (experiment.Id, ids);
    }

    // What the stage would store: the first pair of each call ready and held out, the second failed.
    private async Task StorePairsAsync(long experimentId, IEnumerable<long> instructions, long runId)
    {
        await using var db = Database.CreateContext();
        var first = true;
        foreach (var id in instructions)
        {
            db.Pairs.Add(new Pair
            {
                ExperimentId = experimentId, InstructionId = id, Method = PairMethod.ModifiedInstruction, Prompt = "x", Chosen = "y_w",
                Rejected = first ? "y_l" : null, Status = first ? PairStatus.Ready : PairStatus.Failed, HeldOut = first && !await db.Pairs.AnyAsync(p => p.HeldOut, Cancellation),
                Attempts = 1, StageRunId = runId, CreatedAt = DateTime.UtcNow,
            });
            first = false;
        }
        await db.SaveChangesAsync(Cancellation);
    }

    private async Task UpdateRunAsync(long runId, StageStatus status, int done)
    {
        await using var db = Database.CreateContext();
        await db.StageRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, status).SetProperty(r => r.Total, 4)
            .SetProperty(r => r.Done, done).SetProperty(r => r.StartedAt, DateTime.UtcNow), Cancellation);
    }
}
