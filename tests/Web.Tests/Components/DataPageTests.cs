using System.Text.Json;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Stages;
using SelfTaught.Inference;
using SelfTaught.Web.Components.Pages.Data;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>The Data page's instruction-pool panel: analysis counts and charts, the Categorize form, the instruction browser.</summary>
public sealed class DataPageTests : DatabaseBunitContext
{
    private static readonly DateTime Created = new(2025, 2, 1, 9, 0, 0, DateTimeKind.Utc);

    public DataPageTests()
    {
        // Two endpoints with default models, so the model picker has something to offer.
        Services.AddSingleton(Options.Create(new InferenceOptions
        {
            Endpoints =
            [
                new EndpointOptions { Name = "gpu-a", BaseUrl = "http://127.0.0.1:9", DefaultModel = "llama3.1:8b" },
                new EndpointOptions { Name = "gpu-b", BaseUrl = "http://127.0.0.1:9", DefaultModel = "qwen2.5:7b" },
            ],
        }));
        // The charts size themselves to their box, which the browser measures; here every box is 700 × 350.
        JSInterop.Setup<MudBlazor.Interop.ElementSize>("mudObserveElementSize", _ => true).SetResult(new MudBlazor.Interop.ElementSize { Width = 700, Height = 350, Timestamp = 1 });
    }

    [Fact]
    public async Task Render_ChartsDistributionsAndCounts_WhenInstructionsWereAnalyzed()
    {
        var pool = await SeedPoolAsync(
            Analyzed("Write a merge sort in Rust", "Coding", 7, 'c'),
            Analyzed("Fix this SQL query", "Coding", 3, 'a'),
            Analyzed("Prove that sqrt(2) is irrational", "Mathematical reasoning", 7, 'e'),
            // A partly parsed answer: its category and length count, its complexity does not.
            new Instruction { Text = "Ideas for a birthday party", Category = "Brainstorming", LengthBucket = 'b', AnalyzedAt = Created,
                AnalysisError = "missing or invalid: Complexity (1-10)", AnalysisRawOutput = "Category: Brainstorming\nLength: b" },
            new Instruction { Text = "Translate 'hello' to French" },
            new Instruction { Text = "Summarize this article" });

        var cut = Render<DataPage>();

        cut.WaitForAssertion(() => Assert.Equal("6", StatValue(cut, "pool-total")));
        Assert.Equal(pool.ToString(System.Globalization.CultureInfo.InvariantCulture), cut.Find("#instruction-pool").GetAttribute("data-dataset-id"));
        Assert.Equal("3", StatValue(cut, "pool-analyzed"));
        Assert.Equal("2", StatValue(cut, "pool-not-analyzed"));
        Assert.Equal("1", StatValue(cut, "pool-parse-errors"));

        Assert.Equal(new Dictionary<string, string> { ["Coding"] = "2", ["Brainstorming"] = "1", ["Mathematical reasoning"] = "1" }, Counts(cut, "chart-category"));
        Assert.Equal(new Dictionary<string, string>
        {
            ["1"] = "0", ["2"] = "0", ["3"] = "1", ["4"] = "0", ["5"] = "0", ["6"] = "0", ["7"] = "2", ["8"] = "0", ["9"] = "0", ["10"] = "0",
        }, Counts(cut, "chart-complexity"));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "1", ["c"] = "1", ["d"] = "0", ["e"] = "1" }, Counts(cut, "chart-length"));
        Assert.Contains("a) 1 sentence", cut.Find("#chart-length-counts").TextContent);

        // The charts are MudBlazor SVG bar charts with one labelled bar per category, score and bucket.
        foreach (var (chart, labels) in new[] { ("chart-category", 3), ("chart-complexity", 10), ("chart-length", 5) })
        {
            var svg = cut.Find($"#{chart} svg");
            Assert.Equal(labels, BarCount(svg));
        }
        // Long category names are cut after a word on the turned axis labels; the counts list names them whole.
        Assert.Equal(["Coding", "Brainstorming", "Mathematical…"], cut.FindAll("#chart-category svg .mud-charts-xaxis text").Select(t => t.TextContent));
        Assert.Equal("Mathematical reasoning", cut.Find("#chart-category-counts li[data-label='Mathematical reasoning'] span").TextContent);
        // Bar heights follow the counts: complexity 7 (two instructions) is twice as tall as 3 (one), and 1 is flat.
        var heights = BarHeights(cut.Find("#chart-complexity svg"));
        Assert.Equal(2 * heights[2], heights[6], 3);
        Assert.True(heights[2] > 0);
        Assert.Equal(0, heights[0]);
    }

    [Fact]
    public async Task StartButton_CreatesCategorizeRunWithChosenModel_WhenAModelIsTyped()
    {
        var pool = await SeedPoolAsync(new Instruction { Text = "What is 2 + 2?" }, new Instruction { Text = "Name three rivers" });
        var cut = Render<DataPage>();
        // The first configured endpoint's default model is offered first.
        cut.WaitForAssertion(() => Assert.Equal("llama3.1:8b", cut.Find("#categorize-model").GetAttribute("value")));

        var model = cut.Find("#categorize-model");
        model.Input("qwen2.5:7b");
        model.Blur();
        cut.WaitForAssertion(() => Assert.False(cut.Find("#categorize-start").HasAttribute("disabled")));
        cut.Find("#categorize-start").Click();

        cut.WaitForAssertion(() => Assert.Equal("/jobs", cut.Find("#categorize-jobs-link").GetAttribute("href")));
        await using var db = Database.CreateContext();
        var run = await db.StageRuns.AsNoTracking().SingleAsync(Cancellation);
        Assert.Equal(StageKind.Categorize, run.Kind);
        Assert.Equal(StageStatus.Queued, run.Status);
        Assert.Equal(pool, run.DatasetId);
        var settings = JsonSerializer.Deserialize<InstructionAnalysisSettings>(run.SettingsJson, StageJson.Options)!;
        Assert.Equal("qwen2.5:7b", settings.Model);
        Assert.Null(settings.Endpoint);
        Assert.True(settings.OnlyMissing);
        Assert.Equal([run.Id], Scheduler.Starts);
        Assert.Contains($"Stage run {run.Id} is queued", cut.Find("#categorize-started").TextContent);
        // A second run over the same pool would label the same instructions: the form says so and waits.
        cut.WaitForAssertion(() => Assert.True(cut.Find("#categorize-start").HasAttribute("disabled")));
    }

    [Fact]
    public async Task InstructionBrowser_ShowsOnlyMatchingRows_WhenSearching()
    {
        await SeedPoolAsync(
            new Instruction { Text = "Write a haiku about autumn leaves", Language = "English" },
            new Instruction { Text = "What is 17 * 23?", Language = "English" },
            new Instruction { Text = "Écris un haïku sur la mer", Language = "French" },
            new Instruction { Text = "A limerick, 100% silly, about cats", Language = "English" });
        var cut = Render<DataPage>();
        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("#instructions-grid tbody tr.mud-table-row").Count));

        cut.Find("#instruction-search").Input("HAIKU");

        cut.WaitForAssertion(() =>
        {
            var row = Assert.Single(cut.FindAll("#instructions-grid tbody tr.mud-table-row"));
            Assert.Contains("Write a haiku about autumn leaves", row.TextContent);
            Assert.Contains("English", row.TextContent);
        });

        // The search is literal: % is not a wildcard.
        cut.Find("#instruction-search").Input("100%");
        cut.WaitForAssertion(() => Assert.Contains("limerick", Assert.Single(cut.FindAll("#instructions-grid tbody tr.mud-table-row")).TextContent));

        cut.Find("#instruction-search").Input("no such text");
        cut.WaitForAssertion(() => Assert.Contains("No instruction matches", cut.Find("#instructions-grid").TextContent));
    }

    [Fact]
    public async Task InstructionBrowser_ShowsOnlyMatchingRows_WhenFilteringByTurnsAndAnswerLength()
    {
        await SeedPoolAsync(
            new Instruction { Text = "Write a sonnet", TurnCount = 1 },
            new Instruction { Text = "Continue our story", TurnCount = 4 },
            Analyzed("Explain monads in depth", "Coding", 8, 'e'),
            Analyzed("Name a prime", "Mathematical reasoning", 1, 'a'));
        var cut = Render<DataPage>();
        cut.WaitForAssertion(() => Assert.Equal(4, cut.FindAll("#instructions-grid tbody tr.mud-table-row").Count));
        var browser = cut.FindComponent<InstructionBrowser>();

        await cut.InvokeAsync(() => browser.FindComponents<MudBlazor.MudSelect<SelfTaught.Web.Api.TurnFilter>>().Single().Instance
            .ValueChanged.InvokeAsync(SelfTaught.Web.Api.TurnFilter.Multi));
        cut.WaitForAssertion(() => Assert.Contains("Continue our story", Assert.Single(cut.FindAll("#instructions-grid tbody tr.mud-table-row")).TextContent));

        await cut.InvokeAsync(() => browser.FindComponents<MudBlazor.MudSelect<SelfTaught.Web.Api.TurnFilter>>().Single().Instance
            .ValueChanged.InvokeAsync(SelfTaught.Web.Api.TurnFilter.Any));
        await cut.InvokeAsync(() => browser.FindComponents<MudBlazor.MudSelect<char?>>().Single().Instance.ValueChanged.InvokeAsync('e'));
        cut.WaitForAssertion(() => Assert.Contains("Explain monads in depth", Assert.Single(cut.FindAll("#instructions-grid tbody tr.mud-table-row")).TextContent));
    }

    [Fact]
    public async Task RowClick_SwitchesPanel_WhenAnotherDatasetIsChosen()
    {
        await SeedPoolAsync(new Instruction { Text = "Plan a trip to Kyoto" });
        await Database.AddAsync(Cancellation, new Dataset { Name = "rewardbench", Role = DatasetRole.Benchmark, CreatedAt = Created.AddDays(1) });
        var cut = Render<DataPage>();
        cut.WaitForAssertion(() => Assert.Equal("1", StatValue(cut, "pool-total")));

        // Newest first: the benchmark is the first row.
        cut.WaitForAssertion(() => Assert.Contains("rewardbench", cut.FindAll("#datasets-table tbody tr")[0].TextContent));
        cut.FindAll("#datasets-table tbody tr")[0].Click();

        cut.WaitForAssertion(() => Assert.Contains("choose an instruction pool", cut.Find("#dataset-not-a-pool").TextContent));
        Assert.Empty(cut.FindAll("#instruction-pool"));

        cut.FindAll("#datasets-table tbody tr")[1].Click();
        cut.WaitForAssertion(() => Assert.Equal("1", StatValue(cut, "pool-total")));
    }

    [Fact]
    public async Task Table_ShowsCountsAndEveryRoleOpensItsImportCard_WhenADatasetIsChosen()
    {
        var pool = await SeedPoolAsync(new Instruction { Text = "Plan a trip to Kyoto" });
        var benchmark = new Dataset
        {
            Name = "rewardbench", Role = DatasetRole.Benchmark, Preset = "rewardbench", RowCount = 985, RejectedCount = 4, DuplicateCount = 2,
            CreatedAt = Created.AddDays(1),
        };
        await Database.AddAsync(Cancellation, benchmark);
        var cut = Render<DataPage>();

        // The newest instruction pool opens by default, with its Import card above its analysis.
        cut.WaitForAssertion(() => Assert.Equal(pool.ToString(System.Globalization.CultureInfo.InvariantCulture),
            cut.Find("#dataset-import-details").GetAttribute("data-dataset-id")));
        cut.WaitForAssertion(() => Assert.Contains("rewardbench", cut.FindAll("#datasets-table tbody tr")[0].TextContent));
        var row = cut.FindAll("#datasets-table tbody tr")[0];
        Assert.Equal(["985", "4", "2"], new[] { "rows", "rejected", "duplicates" }.Select(f => row.QuerySelector($"[data-field={f}]")!.TextContent.Trim()));

        row.Click();

        cut.WaitForAssertion(() => Assert.Equal(benchmark.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            cut.Find("#dataset-import-details").GetAttribute("data-dataset-id")));
        cut.WaitForAssertion(() => Assert.Contains("rewardbench", cut.Find("#dataset-import-details h3").TextContent));
        Assert.Equal("4", cut.Find("#import-counts [data-field=rejected] dd").TextContent.Trim());
        Assert.Empty(cut.FindAll("#instruction-pool"));
    }

    [Fact]
    public async Task PoolPanel_ReloadsCountsOnEveryTick_WhileACategorizeRunIsActive_AndStopsAfterItFinishes()
    {
        var clock = new ManualTimeProvider();
        Services.AddSingleton<TimeProvider>(clock);
        var pool = await SeedPoolAsync(new Instruction { Text = "Sort a list in Go" }, new Instruction { Text = "Prove 1 + 1 = 2" }, new Instruction { Text = "Name a bird" });
        var run = new StageRun { Kind = StageKind.Categorize, DatasetId = pool, Status = StageStatus.Running, Total = 3, CreatedAt = Created };
        await Database.AddAsync(Cancellation, run);
        var cut = Render<DataPage>();
        cut.WaitForAssertion(() => Assert.Equal("3", StatValue(cut, "pool-not-analyzed")));
        cut.WaitForAssertion(() => Assert.Equal(1, clock.ActiveTimers(InstructionPoolPanel.RefreshInterval)));
        Assert.Contains($"Stage run {run.Id} is still categorizing", cut.Find("#categorize-blocked").TextContent);

        // The run labels one instruction; the next tick shows it.
        await AnalyzeAsync(0, "Coding");
        Assert.Equal(1, clock.Fire(InstructionPoolPanel.RefreshInterval));
        cut.WaitForAssertion(() => Assert.Equal("1", StatValue(cut, "pool-analyzed")));
        Assert.Equal("2", StatValue(cut, "pool-not-analyzed"));
        Assert.Equal(new Dictionary<string, string> { ["Coding"] = "1" }, Counts(cut, "chart-category"));

        // The run labels the rest and finishes: one last reload, the instruction list too, and the form is free again.
        await AnalyzeAsync(1, "Mathematical reasoning");
        await AnalyzeAsync(2, "Other");
        await using (var db = Database.CreateContext())
        {
            await db.StageRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, StageStatus.Completed), Cancellation);
        }
        clock.Fire(InstructionPoolPanel.RefreshInterval);
        cut.WaitForAssertion(() => Assert.Equal("3", StatValue(cut, "pool-analyzed")));
        cut.WaitForAssertion(() => Assert.Contains("Mathematical reasoning", cut.Find("#instructions-grid").TextContent));
        Assert.DoesNotContain("still categorizing", cut.Find("#categorize-form").TextContent);
        cut.WaitForAssertion(() => Assert.Equal(0, clock.ActiveTimers(InstructionPoolPanel.RefreshInterval)));
    }

    [Fact]
    public async Task PoolPanel_SchedulesNoReload_UntilACategorizeRunIsStarted()
    {
        var clock = new ManualTimeProvider();
        Services.AddSingleton<TimeProvider>(clock);
        // A finished run does not count.
        var pool = await SeedPoolAsync(new Instruction { Text = "What is 2 + 2?" });
        await Database.AddAsync(Cancellation, new StageRun { Kind = StageKind.Categorize, DatasetId = pool, Status = StageStatus.Completed, CreatedAt = Created });
        var cut = Render<DataPage>();
        cut.WaitForAssertion(() => Assert.Equal("1", StatValue(cut, "pool-total")));
        cut.WaitForAssertion(() => Assert.False(cut.Find("#categorize-start").HasAttribute("disabled")));

        Assert.Equal(0, clock.ActiveTimers(InstructionPoolPanel.RefreshInterval));

        cut.Find("#categorize-start").Click();
        cut.WaitForAssertion(() => Assert.Equal(1, clock.ActiveTimers(InstructionPoolPanel.RefreshInterval)));

        // Leaving the page stops the polling.
        await DisposeComponentsAsync();
        Assert.True(SpinWait.SpinUntil(() => clock.ActiveTimers(InstructionPoolPanel.RefreshInterval) == 0, TimeSpan.FromSeconds(10)),
            "the refresh timer outlived the page");
    }

    private async Task AnalyzeAsync(int rowIndex, string category)
    {
        await using var db = Database.CreateContext();
        await db.Instructions.Where(i => i.RowIndex == rowIndex).ExecuteUpdateAsync(u => u
            .SetProperty(i => i.Category, category).SetProperty(i => i.Complexity, 4).SetProperty(i => i.LengthBucket, 'b')
            .SetProperty(i => i.AnalyzedAt, Created), Cancellation);
    }

    private Instruction Analyzed(string text, string category, int complexity, char length) => new()
    {
        Text = text, Category = category, Complexity = complexity, LengthBucket = length, AnalyzedAt = Created,
        AnalysisRawOutput = $"Category: {category}\nComplexity: {complexity}\nLength: {length}", AnalysisModel = "sim-judge",
    };

    private async Task<long> SeedPoolAsync(params Instruction[] instructions)
    {
        var dataset = new Dataset { Name = "wildchat-sample", Role = DatasetRole.InstructionPool, RowCount = instructions.Length, CreatedAt = Created };
        for (var i = 0; i < instructions.Length; i++)
        {
            instructions[i].RowIndex = i;
            dataset.Instructions.Add(instructions[i]);
        }
        await Database.AddAsync(Cancellation, dataset);
        return dataset.Id;
    }

    private static string StatValue(IRenderedComponent<DataPage> cut, string id) =>
        cut.Find($"#{id} [data-testid=value]").TextContent.Trim();

    private static Dictionary<string, string> Counts(IRenderedComponent<DataPage> cut, string chart) =>
        cut.FindAll($"#{chart}-counts li").ToDictionary(li => li.GetAttribute("data-label")!, li => li.QuerySelector("[data-testid=count]")!.TextContent.Trim());

    private static int BarCount(AngleSharp.Dom.IElement svg) => svg.QuerySelectorAll("path.mud-chart-bar").Length;

    // A bar is drawn as a thick vertical line "M x yBottom L x yTop".
    private static double[] BarHeights(AngleSharp.Dom.IElement svg) =>
    [
        .. svg.QuerySelectorAll("path.mud-chart-bar").Select(bar =>
        {
            var parts = bar.GetAttribute("d")!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return double.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) - double.Parse(parts[5], System.Globalization.CultureInfo.InvariantCulture);
        }),
    ];
}
