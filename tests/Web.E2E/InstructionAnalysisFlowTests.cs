using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using SelfTaught.SimBackend;
using static Microsoft.Playwright.Assertions;

namespace SelfTaught.Web.E2E;

/// <summary>
/// A newcomer's first run in a real browser: import the shared WildChat sample, analyze it against SimBackend, then
/// see the distributions on the Data page and the finished runs on the Jobs page.
/// </summary>
[Collection(nameof(HangfireHostCollection))]
public sealed class InstructionAnalysisFlowTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ImportAndCategorize_ShowChartsOnData_AndFinishedRunsOnJobs()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var app = new KestrelAppFactory()
            .With("Inference:Endpoints:0:Name", "sim")
            .With("Inference:Endpoints:0:BaseUrl", sim.BaseUri)
            .With("Inference:Endpoints:0:DefaultModel", "sim-judge");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await E2EEnvironment.LaunchChromiumAsync(playwright);
        app.StartServer();
        using var http = new HttpClient { BaseAddress = new Uri(app.BaseUrl) };

        var import = await (await http.PostAsJsonAsync("/api/datasets/import",
            new { path = SharedFile("wildchat", "wildchat_1k_noveltybench.jsonl"), preset = "wildchat", name = "WildChat 1k" }, Ct))
            .Content.ReadFromJsonAsync<JsonElement>(Ct);
        await WaitCompletedAsync(http, import.GetProperty("stageRunId").GetInt64());
        var categorize = await (await http.PostAsJsonAsync($"/api/datasets/{import.GetProperty("datasetId").GetInt64()}/categorize",
            new { model = "sim-judge" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var analysisRun = categorize.GetProperty("stageRunId").GetInt64();
        await WaitCompletedAsync(http, analysisRun);

        var (page, errors) = await E2EEnvironment.OpenPageAsync(browser);
        await page.GotoAsync(app.BaseUrl + "/data");
        await Expect(page.GetByText("WildChat 1k").First).ToBeVisibleAsync();
        foreach (var chart in new[] { "#chart-category", "#chart-complexity", "#chart-length" })
            await Expect(page.Locator($"{chart} svg rect, {chart} svg path").First).ToBeAttachedAsync();
        await E2EEnvironment.WaitForChartLayoutAsync(page, "chart-category");
        await page.ScreenshotAsync(new() { Path = Path.Combine(E2EEnvironment.ArtifactsDirectory, "e2e-data-analyzed.png"), FullPage = true });
        // The Import card of the sample: source path, preset, files, filters, the duplicate it dropped.
        await Expect(page.Locator("#dataset-import-details [data-field=preset] td")).ToHaveTextAsync("wildchat");
        await page.Locator("#dataset-import-details").ScreenshotAsync(new() { Path = Path.Combine(E2EEnvironment.ArtifactsDirectory, "e2e-data-import-details.png") });
        // The category chart at full size: all fifteen categories of the paper's prompt, with turned labels.
        await page.Locator("#chart-category-panel").ScreenshotAsync(new() { Path = Path.Combine(E2EEnvironment.ArtifactsDirectory, "e2e-data-analyzed-categories.png") });

        await page.GotoAsync(app.BaseUrl + "/jobs");
        await Expect(page.Locator($"#stage-run-progress-{analysisRun}")).ToHaveAttributeAsync("aria-valuenow", "100");
        await page.ScreenshotAsync(new() { Path = Path.Combine(E2EEnvironment.ArtifactsDirectory, "e2e-jobs-finished.png"), FullPage = true });

        Assert.Empty(errors);
        await browser.CloseAsync();
    }

    private static async Task WaitCompletedAsync(HttpClient http, long runId)
    {
        for (var i = 0; i < 600; i++)
        {
            var run = await http.GetFromJsonAsync<JsonElement>($"/api/stage-runs/{runId}", Ct);
            var status = run.GetProperty("status").GetString();
            if (status == "Completed") return;
            Assert.True(status is "Queued" or "Running", $"stage run {runId} ended {status}: {run}");
            await Task.Delay(100, Ct);
        }
        throw new TimeoutException($"stage run {runId} did not complete");
    }

    private static string SharedFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine([dir.FullName, "shared", "data", .. parts]);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"shared/data/{string.Join('/', parts)} not found above {AppContext.BaseDirectory}.");
    }
}
