using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Web.Api;
using SelfTaught.Web.Components.Pages.Experiments;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>
/// The Select panel follows the select run it started: the run's counters and the selection are written to the
/// database as the stage writes them, and the panel shows them on its next tick, driven by a clock whose timers fire
/// only when the test says so.
/// </summary>
public sealed class SelectPanelRefreshTests : DatabaseBunitContext
{
    private readonly ManualTimeProvider _clock = new();

    public SelectPanelRefreshTests() => Services.AddSingleton<TimeProvider>(_clock);

    /// <summary>A pool of 4 analyzed instructions (rows 0–1 Coding, 2–3 Math) and an experiment over it.</summary>
    private async Task<(ExperimentView View, IReadOnlyList<long> Instructions)> SeedAsync()
    {
        await using var db = Database.CreateContext();
        var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = 4, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Cancellation);
        var rows = Enumerable.Range(0, 4).Select(i => new Instruction
        {
            DatasetId = dataset.Id, RowIndex = i, Text = $"Instruction {i}", Language = "English",
            Category = i < 2 ? "Coding" : "Math", Complexity = i + 1, LengthBucket = 'c', AnalyzedAt = DateTime.UtcNow,
        }).ToList();
        db.Instructions.AddRange(rows);
        await db.SaveChangesAsync(Cancellation);
        var experiment = await Services.GetRequiredService<ExperimentService>().CreateAsync(
            new CreateExperimentRequest { Name = "e", DatasetId = dataset.Id, SeedModel = new("m"), Seed = 3 }, cancellationToken: Cancellation);
        return ((await ExperimentView.LoadAsync(db, experiment.Id, Cancellation))!, [.. rows.Select(r => r.Id)]);
    }

    [Fact]
    public async Task SelectPanel_ShowsTheRunsProgress_AndTheSelectionWhenItFinishes()
    {
        var (view, instructions) = await SeedAsync();
        var cut = Render<SelectPanel>(p => p.Add(x => x.Experiment, view));
        cut.WaitForAssertion(() => cut.Find("#select-start"));
        Assert.Empty(cut.FindAll("#select-current"));
        Assert.Equal(0, _clock.ActiveTimers(SelectPanel.RefreshInterval));

        await cut.InvokeAsync(() => cut.Find("#select-start").Click());

        cut.WaitForAssertion(() => Assert.Equal("Queued", cut.Find("#select-run-status").TextContent.Trim()));
        Assert.NotNull(cut.Find("#select-run-progress"));
        Assert.True(cut.Find("#select-start").HasAttribute("disabled"));
        cut.WaitForAssertion(() => Assert.Equal(1, _clock.ActiveTimers(SelectPanel.RefreshInterval)));
        long runId;
        await using (var db = Database.CreateContext())
            runId = await db.StageRuns.Where(r => r.ExperimentId == view.Id && r.Kind == StageKind.Select).Select(r => r.Id).SingleAsync(Cancellation);

        // The stage lists its items and checks one: nothing changes on screen until the interval passes.
        await UpdateRunAsync(runId, StageStatus.Running, total: 4, done: 1);
        Assert.Equal("Queued", cut.Find("#select-run-status").TextContent.Trim());
        Assert.Equal(1, _clock.Fire(SelectPanel.RefreshInterval));
        cut.WaitForAssertion(() =>
        {
            Assert.Equal("Running", cut.Find("#select-run-status").TextContent.Trim());
            Assert.Equal("1 of 4 instructions checked", cut.Find("#select-run-counts").TextContent.Trim());
            Assert.Equal("25", cut.Find("#select-run-progress").GetAttribute("aria-valuenow"));
        });

        // The stage stores the selection (one exact match, excluded) and finishes between two ticks.
        await using (var db = Database.CreateContext())
        {
            db.ExperimentInstructions.AddRange(instructions.Select((id, i) => new ExperimentInstruction
            {
                ExperimentId = view.Id, InstructionId = id, StageRunId = runId,
                Contamination = i == 3 ? ContaminationKind.ExactMatch : ContaminationKind.None, ContaminationMatch = i == 3 ? "gsm8k / main / q7" : null, Excluded = i == 3,
            }));
            await db.SaveChangesAsync(Cancellation);
        }
        await UpdateRunAsync(runId, StageStatus.Completed, total: 4, done: 4);
        Assert.Empty(cut.FindAll("#select-current"));
        Assert.Equal(1, _clock.Fire(SelectPanel.RefreshInterval));

        cut.WaitForAssertion(() =>
        {
            Assert.Equal("Completed", cut.Find("#select-run-status").TextContent.Trim());
            Assert.Equal("4 of 4 instructions checked", cut.Find("#select-run-counts").TextContent.Trim());
            Assert.Contains("4 selected: 3 go on to pair synthesis, 1 excluded; 1 exact and 0 n-gram", OneLine(cut.Find("#select-current").TextContent));
        });
        Assert.Empty(cut.FindAll("#select-run-progress"));
        Assert.Contains("gsm8k / main / q7", cut.Find("#select-contaminated").TextContent);
        Assert.Contains("The 3 instructions that go on to pair synthesis against all 4 of the pool", OneLine(cut.Find("#select-distributions-caption").TextContent));
        Assert.Equal($"2 ({ComparisonChart.Percent(200 / 3.0)})", cut.Find("#select-compare-category-table tr[data-label='Coding'] [data-testid=selected]").TextContent.Trim());
        Assert.False(cut.Find("#select-start").HasAttribute("disabled"));
        // Nothing is left to follow: the panel stops polling.
        cut.WaitForAssertion(() => Assert.Equal(0, _clock.ActiveTimers(SelectPanel.RefreshInterval)));
    }

    [Fact]
    public async Task SelectPanel_ShowsTheReason_WhenTheRunFails()
    {
        var (view, _) = await SeedAsync();
        var cut = Render<SelectPanel>(p => p.Add(x => x.Experiment, view));
        cut.WaitForAssertion(() => cut.Find("#select-start"));
        await cut.InvokeAsync(() => cut.Find("#select-start").Click());
        cut.WaitForAssertion(() => Assert.Equal(1, _clock.ActiveTimers(SelectPanel.RefreshInterval)));
        await using (var db = Database.CreateContext())
            await db.StageRuns.Where(r => r.ExperimentId == view.Id).ExecuteUpdateAsync(u => u
                .SetProperty(r => r.Status, StageStatus.Failed).SetProperty(r => r.LastError, "Benchmark dataset(s) 9 do not exist."), Cancellation);

        Assert.Equal(1, _clock.Fire(SelectPanel.RefreshInterval));

        cut.WaitForAssertion(() => Assert.Contains("Benchmark dataset(s) 9 do not exist.", cut.Find("#select-run-error").TextContent));
        Assert.Empty(cut.FindAll("#select-run-progress"));
        Assert.Empty(cut.FindAll("#select-current"));
    }

    private async Task UpdateRunAsync(long runId, StageStatus status, int total, int done)
    {
        await using var db = Database.CreateContext();
        await db.StageRuns.Where(r => r.Id == runId).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.Status, status).SetProperty(r => r.Total, total).SetProperty(r => r.Done, done), Cancellation);
    }

    private static string OneLine(string text) => string.Join(' ', text.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries));
}
