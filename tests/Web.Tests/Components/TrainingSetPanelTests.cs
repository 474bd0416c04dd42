using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Stages;
using SelfTaught.Web.Components.Pages.Experiments;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>An iteration's training-set panel: counts, downloads, and the build with its estimate and confirmation.</summary>
public sealed class TrainingSetPanelTests : DatabaseBunitContext
{
    [Fact]
    public async Task Build_ShowsTheEstimateFirst_AndStartsARunOnlyWhenConfirmed()
    {
        await using var db = Database.CreateContext();
        var (experimentId, iterationId) = await TrainingData.SeedJudgedIterationAsync(db, 15, Cancellation);

        var cut = Render<TrainingSetPanel>(p => p.Add(x => x.ExperimentId, experimentId).Add(x => x.Iteration, 1));
        cut.WaitForAssertion(() => Assert.Equal("Not built yet.", cut.Find("#training-not-built").TextContent));
        await cut.InvokeAsync(() => cut.Find("#training-build").Click());

        cut.WaitForAssertion(() => Assert.Contains("10 kept judgments; cost: no model calls.", cut.Find("#training-confirm").TextContent));
        Assert.Empty(Scheduler.Starts);
        cut.Find("#training-exclude").Change(true);
        await cut.InvokeAsync(() => cut.Find("#training-build-confirm").Click());

        var run = await db.StageRuns.AsNoTracking().SingleAsync(r => r.Kind == StageKind.BuildTrainingSet, Cancellation);
        Assert.Equal([run.Id], Scheduler.Starts);
        Assert.Equal(iterationId, run.IterationId);
        Assert.Contains("\"excludeOverMaxLength\":true", run.SettingsJson, StringComparison.Ordinal);
        cut.WaitForAssertion(() => Assert.Contains($"Stage run {run.Id} is building it.", cut.Find("#training-running").TextContent));
        Assert.Empty(cut.FindAll("#training-confirm"));
    }

    [Fact]
    public async Task Built_ShowsItsCounts_AndDownloadLinksToTheApi()
    {
        await using var db = Database.CreateContext();
        var (experimentId, iterationId) = await TrainingData.SeedJudgedIterationAsync(db, 15, Cancellation);
        // Run the real stage through the engine: the recording scheduler hands over the chunk this test then runs.
        var engine = Services.GetRequiredService<StageEngine>();
        var run = await engine.CreateAsync(StageKind.BuildTrainingSet, new TrainingSetBuildSettings(), experimentId: experimentId, iterationId: iterationId, cancellationToken: Cancellation);
        await engine.StartAsync(run.Id, Cancellation);
        var chunk = Assert.Single(Scheduler.Chunks);
        await engine.RunChunkAsync(run.Id, chunk.FirstItemId, chunk.LastItemId, Cancellation);

        var cut = Render<TrainingSetPanel>(p => p.Add(x => x.ExperimentId, experimentId).Add(x => x.Iteration, 1));

        cut.WaitForAssertion(() => Assert.Equal("4", cut.Find("#training-sft-rows").TextContent));
        Assert.Equal("4", cut.Find("#training-dpo-rows").TextContent);
        Assert.Equal("10", cut.Find("#training-kept").TextContent);
        Assert.Equal("6", cut.Find("#training-parse-failures").TextContent);
        Assert.Contains("before balancing 8 / 2", cut.Find("#training-counts").TextContent);
        Assert.Contains("3 held out", cut.Find("#training-counts").TextContent);
        foreach (var name in new[] { "sft", "dpo", "openai", "manifest" })
        {
            var link = cut.Find($"#training-download-{name}");
            Assert.Equal($"/api/experiments/{experimentId}/iterations/1/training-set/{name}", link.GetAttribute("href"));
            Assert.True(link.HasAttribute("download"));
        }
        Assert.Contains("Rebuild training set", cut.Find("#training-build").TextContent);
        Assert.True(File.Exists(Path.Combine(ExportFolder, $"experiment-{experimentId}", "iteration-1", "sft.jsonl")));
    }
}
