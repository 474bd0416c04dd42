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
        Assert.Contains("Mathematical reasoning", cut.Find("#chart-category svg").TextContent);
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
