using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using static Microsoft.Playwright.Assertions;

namespace SelfTaught.Web.E2E;

/// <summary>The Data page in a real browser: importing a file through the form, and the category chart's long labels.</summary>
[Collection(nameof(HangfireHostCollection))]
public sealed class DataPageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ImportForm_UploadsJsonl_AndShowsTheNewDatasetWithCountsAndRejections()
    {
        // Five prompts: one empty (rejected), one repeated with other case and spacing (a duplicate), three kept.
        var file = Path.Combine(Path.GetTempPath(), $"e2e-prompts-{Guid.NewGuid():N}.jsonl");
        string[] prompts = ["Explain photosynthesis to a child.", "Write a haiku about rain.", "", "explain  PHOTOSYNTHESIS to a child.", "Name three rivers in Africa."];
        await File.WriteAllLinesAsync(file, prompts.Select((p, i) => JsonSerializer.Serialize(new { id = $"p{i}", prompt = p })), Ct);
        try
        {
            await using var app = new KestrelAppFactory();
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await E2EEnvironment.LaunchChromiumAsync(playwright);
            app.StartServer();
            var (page, errors) = await E2EEnvironment.OpenPageAsync(browser);

            await page.GotoAsync(app.BaseUrl + "/data");
            await Expect(page.GetByText("No datasets yet")).ToBeVisibleAsync();
            await E2EEnvironment.ClickUntilAsync(page, page.Locator("#import-open"), "() => document.querySelector('#import-form') !== null");
            await Expect(page.Locator("#import-form")).ToBeVisibleAsync();
            // The instruction preset is the default choice.
            await Expect(page.Locator("#import-form .mud-select").First).ToContainTextAsync("instructions");
            await page.Locator("#import-file").SetInputFilesAsync(file);
            await page.Locator("#import-start").ClickAsync();

            // The page follows the import job and lists the dataset when it is done, without a reload.
            await Expect(page.Locator("#import-finished")).ToContainTextAsync("3 rows kept, 1 rejected, 1 dropped as duplicates");
            var row = page.Locator("#datasets-table tbody tr").Filter(new() { HasText = Path.GetFileName(file) });
            await Expect(row).ToHaveCountAsync(1);
            await Expect(row.Locator("[data-field=rows]")).ToHaveTextAsync("3");
            await Expect(row.Locator("[data-field=rejected]")).ToHaveTextAsync("1");
            await Expect(row.Locator("[data-field=duplicates]")).ToHaveTextAsync("1");

            // The new dataset is opened: its Import card names the file, the preset and what was dropped.
            var details = page.Locator("#dataset-import-details");
            await Expect(details).ToBeVisibleAsync();
            await Expect(details.Locator("[data-field=preset] td")).ToHaveTextAsync("instructions");
            await Expect(details.Locator("[data-field=format] td")).ToHaveTextAsync("jsonl");
            await Expect(details.Locator("[data-field=files] td")).ToContainTextAsync(Path.GetFileName(file));
            await Expect(details.Locator("[data-field=rows-read] dd")).ToHaveTextAsync("5");
            await Expect(details.Locator("[data-field=sha256] td")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9a-f]{64}$"));
            var emptyPrompt = details.Locator("#import-rejections [data-reason=empty-prompt]");
            await Expect(emptyPrompt.Locator("[data-testid=count]")).ToHaveTextAsync("1");
            await emptyPrompt.Locator("summary").ClickAsync();
            await Expect(emptyPrompt.Locator("tr[data-row='2']")).ToBeVisibleAsync();
            await details.Locator("#import-duplicates summary").ClickAsync();
            await Expect(details.Locator("#import-duplicates tr[data-row='3'] [data-testid=preview]")).ToHaveTextAsync(prompts[3]);
            // An instruction pool: its panel shows the three instructions.
            await Expect(page.Locator("#pool-total [data-testid=value]")).ToHaveTextAsync("3");
            // From the top: a full-page shot of a scrolled page draws the fixed app bar in the middle.
            await page.EvaluateAsync("() => window.scrollTo(0, 0)");
            await page.ScreenshotAsync(new() { Path = Path.Combine(E2EEnvironment.ArtifactsDirectory, "e2e-data-import.png"), FullPage = true });

            Assert.Empty(errors);
            await browser.CloseAsync();
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task CategoryChart_ShowsLongLabelsWhole_InsideItsPanel()
    {
        await using var app = new KestrelAppFactory();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await E2EEnvironment.LaunchChromiumAsync(playwright);
        app.StartServer();
        // Long category names, the longest first (the most frequent bar is leftmost, where turned labels ran off the chart).
        string[] categories = ["Open Question Answering", "Humanity, History or Social Studies", "Inhabiting a Character/Persona", "Coding", "Math"];
        await SeedAnalyzedPoolAsync(app, categories);
        var (page, errors) = await E2EEnvironment.OpenPageAsync(browser);

        await page.GotoAsync(app.BaseUrl + "/data");
        var chart = page.Locator("#chart-category");
        await Expect(chart.Locator("svg path.mud-chart-bar")).ToHaveCountAsync(categories.Length);
        // Also fails (by timeout) when the labels never clear the counts list below the chart.
        await E2EEnvironment.WaitForChartLayoutAsync(page, "chart-category");
        // Every x-axis label is drawn whole: inside the chart's panel and inside every element between them that clips
        // (an <svg> clips to its box unless its overflow is visible).
        var labels = await page.Locator("#chart-category-panel").EvaluateAsync<LabelBox[]>("""
            panel => [...panel.querySelectorAll('svg text')].map(t => {
                const r = t.getBoundingClientRect();
                let clip = panel.getBoundingClientRect();
                clip = { left: clip.left, right: clip.right, top: clip.top, bottom: clip.bottom };
                for (let a = t.parentElement; a && a !== panel; a = a.parentElement) {
                    const style = getComputedStyle(a);
                    if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
                    const c = a.getBoundingClientRect();
                    clip = { left: Math.max(clip.left, c.left), right: Math.min(clip.right, c.right), top: Math.max(clip.top, c.top), bottom: Math.min(clip.bottom, c.bottom) };
                }
                return { text: t.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                         clipLeft: clip.left, clipRight: clip.right, clipTop: clip.top, clipBottom: clip.bottom };
            })
            """);
        foreach (var category in categories)
        {
            // Long names may be cut with an ellipsis on the axis; the counts list below the chart names them whole.
            var label = Assert.Single(labels, l => l.Text.Trim().TrimEnd('…') is { Length: > 0 } shown && category.StartsWith(shown, StringComparison.Ordinal));
            await Expect(page.Locator($"#chart-category-counts li[data-label='{category}'] span")).ToHaveTextAsync(category);
            Assert.True(label.Left >= label.ClipLeft - 0.5, $"'{category}' starts at x={label.Left}, left of the visible area at {label.ClipLeft}");
            Assert.True(label.Right <= label.ClipRight + 0.5, $"'{category}' ends at x={label.Right}, right of the visible area at {label.ClipRight}");
            Assert.True(label.Bottom <= label.ClipBottom + 0.5, $"'{category}' ends at y={label.Bottom}, below the visible area at {label.ClipBottom}");
            Assert.True(label.Top >= label.ClipTop - 0.5, $"'{category}' starts at y={label.Top}, above the visible area at {label.ClipTop}");
        }
        await page.Locator("#chart-category-panel").ScreenshotAsync(new() { Path = Path.Combine(E2EEnvironment.ArtifactsDirectory, "e2e-data-category-chart.png") });

        Assert.Empty(errors);
        await browser.CloseAsync();
    }

    private static async Task SeedAnalyzedPoolAsync(KestrelAppFactory app, string[] categories)
    {
        var contexts = app.Services.GetRequiredService<IDbContextFactory<SelfTaughtDbContext>>();
        await using var db = await contexts.CreateDbContextAsync(Ct);
        var analyzed = new DateTime(2025, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var dataset = new Dataset { Name = "Long labels", Role = DatasetRole.InstructionPool, CreatedAt = analyzed };
        var row = 0;
        for (var c = 0; c < categories.Length; c++)
        {
            // The first category is the most frequent, so it is the first (leftmost) bar.
            for (var n = 0; n < categories.Length - c; n++)
            {
                dataset.Instructions.Add(new Instruction
                {
                    RowIndex = row, Text = $"Instruction {row}", Category = categories[c], Complexity = 1 + row % 10, LengthBucket = "abcde"[row % 5],
                    AnalyzedAt = analyzed, AnalysisModel = "seeded",
                });
                row++;
            }
        }
        dataset.RowCount = row;
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Ct);
    }

    /// <summary>A label's box and the visible area around it, in viewport pixels (Playwright needs a settable type).</summary>
    private sealed class LabelBox
    {
        public string Text { get; set; } = "";
        public double Left { get; set; }
        public double Right { get; set; }
        public double Top { get; set; }
        public double Bottom { get; set; }
        public double ClipLeft { get; set; }
        public double ClipRight { get; set; }
        public double ClipTop { get; set; }
        public double ClipBottom { get; set; }
    }
}
