using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Web.Api;
using SelfTaught.Web.Components.Pages.Experiments;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>The Select panel's charts of the selected set against the whole pool (paper Figs. 3–6).</summary>
public sealed class SelectionComparisonTests : DatabaseBunitContext
{
    /// <summary>
    /// A pool of 12: rows 0–5 Coding, 6–8 Mathematical reasoning, 9–10 Brainstorming, all with complexity (i mod 10) + 1
    /// and length bucket "abcde"[i mod 5]; row 11 not analyzed. Selected: rows 0, 1, 6, 7, 8, 11, and row 9 excluded.
    /// </summary>
    private async Task<long> SeedAsync()
    {
        await using var db = Database.CreateContext();
        var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = 12, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Cancellation);
        var rows = Enumerable.Range(0, 12).Select(i => new Instruction
        {
            DatasetId = dataset.Id, RowIndex = i, Text = $"Instruction {i}",
            Category = i switch { < 6 => "Coding", < 9 => "Mathematical reasoning", < 11 => "Brainstorming", _ => null },
            Complexity = i < 11 ? i % 10 + 1 : null, LengthBucket = i < 11 ? "abcde"[i % 5] : null, AnalyzedAt = i < 11 ? DateTime.UtcNow : null,
        }).ToList();
        db.Instructions.AddRange(rows);
        await db.SaveChangesAsync(Cancellation);
        var experiment = await Services.GetRequiredService<ExperimentService>().CreateAsync(
            new CreateExperimentRequest { Name = "e", DatasetId = dataset.Id, SeedModel = new("m"), Seed = 3 }, cancellationToken: Cancellation);
        db.ExperimentInstructions.AddRange(new[] { 0, 1, 6, 7, 8, 11 }.Select(i => new ExperimentInstruction { ExperimentId = experiment.Id, InstructionId = rows[i].Id }));
        db.ExperimentInstructions.Add(new ExperimentInstruction { ExperimentId = experiment.Id, InstructionId = rows[9].Id, Excluded = true, Contamination = ContaminationKind.ExactMatch });
        await db.SaveChangesAsync(Cancellation);
        return experiment.Id;
    }

    private static string Share(double percent) => ComparisonChart.Percent(percent);

    private static (string Pool, string Selected) Cells(IRenderedComponent<SelectPanel> cut, string chart, string label)
    {
        var row = cut.Find($"#{chart}-table tr[data-label='{label}']");
        return (row.QuerySelector("[data-testid=pool]")!.TextContent.Trim(), row.QuerySelector("[data-testid=selected]")!.TextContent.Trim());
    }

    [Fact]
    public async Task SelectPanel_ComparesTheSelectionWithThePool_AsSharesWithTheCounts()
    {
        var experimentId = await SeedAsync();
        ExperimentView view;
        await using (var db = Database.CreateContext())
            view = (await ExperimentView.LoadAsync(db, experimentId, Cancellation))!;

        var cut = Render<SelectPanel>(p => p.Add(x => x.Experiment, view));

        cut.WaitForAssertion(() => cut.Find("#select-distributions"));
        Assert.Contains("The 6 instructions that go on to pair synthesis against all 12 of the pool", cut.Find("#select-distributions-caption").TextContent);
        // Categories in the pool's order; 11 pool and 5 selected instructions have one (row 11 is not analyzed, row 9 is excluded).
        Assert.Equal(["Coding", "Mathematical reasoning", "Brainstorming"],
            cut.FindAll("#select-compare-category-table tbody tr").Select(r => r.GetAttribute("data-label")));
        Assert.Contains("Pool (n = 11)", cut.Find("#select-compare-category-table thead").TextContent);
        Assert.Contains("Selected (n = 5)", cut.Find("#select-compare-category-table thead").TextContent);
        Assert.Equal(($"6 ({Share(600 / 11.0)})", $"2 ({Share(40)})"), Cells(cut, "select-compare-category", "Coding"));
        Assert.Equal(($"3 ({Share(300 / 11.0)})", $"3 ({Share(60)})"), Cells(cut, "select-compare-category", "Mathematical reasoning"));
        Assert.Equal(($"2 ({Share(200 / 11.0)})", $"0 ({Share(0)})"), Cells(cut, "select-compare-category", "Brainstorming"));
        Assert.Equal("54.5%", Share(600 / 11.0));
        // Complexity 1–10 and length a–e keep their scales, empty bars included.
        Assert.Equal(Enumerable.Range(1, 10).Select(i => i.ToString()), cut.FindAll("#select-compare-complexity-table tbody tr").Select(r => r.GetAttribute("data-label")));
        Assert.Equal(($"2 ({Share(200 / 11.0)})", $"1 ({Share(20)})"), Cells(cut, "select-compare-complexity", "1"));
        Assert.Equal(($"1 ({Share(100 / 11.0)})", $"0 ({Share(0)})"), Cells(cut, "select-compare-complexity", "3"));
        Assert.Equal(($"2 ({Share(200 / 11.0)})", $"2 ({Share(40)})"), Cells(cut, "select-compare-length", "b"));
        Assert.Equal(($"2 ({Share(200 / 11.0)})", $"0 ({Share(0)})"), Cells(cut, "select-compare-length", "e"));
        Assert.Contains("b) 1-3 sentences", cut.Find("#select-compare-length-table tr[data-label='b']").TextContent);
        // Two series, drawn as bars, named in the legend.
        var chart = cut.FindComponents<MudBlazor.MudChart<double>>().Single(c => Equals(c.Instance.UserAttributes.GetValueOrDefault("id"), "select-compare-category"));
        Assert.Equal(["Pool", "Selected"], chart.Instance.ChartSeries.Select(s => s.Name));
        Assert.Equal([600 / 11.0, 300 / 11.0, 200 / 11.0], chart.Instance.ChartSeries[0].Data.Values);
    }

    [Fact]
    public async Task SelectPanel_ShowsNoComparison_BeforeAnythingIsSelected()
    {
        await using var db = Database.CreateContext();
        var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Cancellation);
        var experiment = await Services.GetRequiredService<ExperimentService>().CreateAsync(
            new CreateExperimentRequest { Name = "e", DatasetId = dataset.Id, SeedModel = new("m"), Seed = 3 }, cancellationToken: Cancellation);
        var view = (await ExperimentView.LoadAsync(db, experiment.Id, Cancellation))!;

        var cut = Render<SelectPanel>(p => p.Add(x => x.Experiment, view));

        cut.WaitForAssertion(() => cut.Find("#select-preview"));
        Assert.Empty(cut.FindAll("#select-distributions"));
    }
}
