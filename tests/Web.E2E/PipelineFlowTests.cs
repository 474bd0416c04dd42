using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.SimBackend;
using static Microsoft.Playwright.Assertions;

namespace SelfTaught.Web.E2E;

/// <summary>
/// The self-taught loop from the Experiment page in a real browser against SimBackend: make pairs, judge them, build
/// the training set, download it, register a checkpoint and choose it as M1.
/// </summary>
[Collection(nameof(HangfireHostCollection))]
public sealed class PipelineFlowTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExperimentPage_MakesPairs_JudgesThem_BuildsTheTrainingSet_AndChoosesAModel()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = 0.7 }, Ct);
        await using var app = new KestrelAppFactory()
            .With("Inference:Endpoints:0:Name", "sim")
            .With("Inference:Endpoints:0:BaseUrl", sim.BaseUri)
            .With("Inference:Endpoints:0:DefaultModel", "sim-judge");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await E2EEnvironment.LaunchChromiumAsync(playwright);
        app.StartServer();
        using var http = new HttpClient { BaseAddress = new Uri(app.BaseUrl) };

        // A pool of 16 prompts, an experiment and its selection, through the API.
        var contexts = app.Services.GetRequiredService<IDbContextFactory<SelfTaughtDbContext>>();
        long pool;
        await using (var db = await contexts.CreateDbContextAsync(Ct))
        {
            var dataset = new Dataset { Name = "prompts", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = 16, CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(Ct);
            db.Instructions.AddRange(Enumerable.Range(0, 16).Select(i => new Instruction { DatasetId = dataset.Id, RowIndex = i, Text = $"Explain step {i} of long division." }));
            await db.SaveChangesAsync(Ct);
            pool = dataset.Id;
        }
        var experiment = await (await http.PostAsJsonAsync("/api/experiments",
            new { name = "loop", datasetId = pool, seedModel = new { model = "sim-judge" }, generatorModel = new { model = "sim-generator" }, seed = 9 }, Ct))
            .Content.ReadFromJsonAsync<JsonElement>(Ct);
        var id = experiment.GetProperty("id").GetInt64();
        var select = await (await http.PostAsJsonAsync($"/api/experiments/{id}/stages/select", new { }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var selectRun = select.GetProperty("stageRunId").GetInt64();
        await WaitForCompletedAsync(contexts, r => r.Id == selectRun, "select");

        var (page, errors) = await E2EEnvironment.OpenPageAsync(browser);
        await page.GotoAsync($"{app.BaseUrl}/experiments/{id}");

        // Pairs: the estimate first (Generate waits for it), then the run, followed live on the page.
        await E2EEnvironment.ClickUntilAsync(page, page.Locator("#gp-estimate"), "() => document.querySelector('#gp-estimate-result') !== null");
        await Expect(page.Locator("#gp-estimate-result")).ToContainTextAsync("32 calls");
        await page.Locator("#gp-start").ClickAsync();
        await WaitForCompletedAsync(contexts, r => r.Kind == StageKind.GeneratePairs, "GeneratePairs");
        await page.ReloadAsync();
        await Expect(page.Locator("#gp-counts")).ToContainTextAsync("16");

        // Judging: N = 5 with its estimate, then the statistics.
        var iteration = page.Locator("#iteration-1");
        await E2EEnvironment.ClickUntilAsync(page, iteration.Locator("#judge-1-estimate"), "() => document.querySelector('#judge-1-estimate-result') !== null");
        await Expect(iteration.Locator("#judge-1-estimate-result")).ToContainTextAsync("15 items: 225 calls"); // 16 pairs, 1 held out, N = 15
        await iteration.Locator("#judge-1-samples").FillAsync("5");
        await iteration.Locator("#judge-1-samples").PressAsync("Tab");
        await iteration.Locator("#judge-1-estimate").ClickAsync();
        await Expect(iteration.Locator("#judge-1-estimate-result")).ToContainTextAsync("15 items: 75 calls");
        await iteration.Locator("#judge-1-start").ClickAsync();
        await WaitForCompletedAsync(contexts, r => r.Kind == StageKind.Judge, "Judge");
        await page.ReloadAsync();
        await Expect(iteration.Locator("#iteration-1-rates")).ToContainTextAsync("Samples agreeing with the synthetic label");
        await Expect(iteration.Locator("#stat-1-samples")).ToContainTextAsync("75");

        // The training set: confirm, build, download links.
        await E2EEnvironment.ClickUntilAsync(page, iteration.Locator("#training-build"), "() => document.querySelector('#training-build-confirm') !== null");
        await iteration.Locator("#training-build-confirm").ClickAsync();
        await WaitForCompletedAsync(contexts, r => r.Kind == StageKind.BuildTrainingSet, "BuildTrainingSet");
        await page.ReloadAsync();
        await Expect(iteration.Locator("#training-downloads a")).ToHaveCountAsync(4);
        var sftHref = await iteration.Locator("#training-downloads a").First.GetAttributeAsync("href");
        using (var sft = await http.GetAsync(sftHref, Ct))
        {
            Assert.True(sft.IsSuccessStatusCode, $"{sftHref} answered {sft.StatusCode}");
            Assert.Contains("\"completion\"", await sft.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        await Expect(iteration.Locator("#iteration-1-commands")).ToContainTextAsync("Commands: train, serve and register M1");

        // A checkpoint registered and chosen: iteration 2 is judged by it.
        // After the reload, wait for the circuit before typing (a fill before it connects is lost).
        await E2EEnvironment.ClickUntilAsync(page, iteration.Locator("#candidate-1-register"), "() => document.querySelector('#candidate-1-error') !== null");
        await iteration.Locator("#candidate-1-name").FillAsync("step 100");
        await iteration.Locator("#candidate-1-model").FillAsync("selftaught-e1-it1");
        await iteration.Locator("#candidate-1-register").ClickAsync();
        await Expect(iteration.Locator("#iteration-1-candidates tbody tr")).ToHaveCountAsync(1);
        await iteration.Locator("#iteration-1-candidates button").ClickAsync();
        await Expect(page.Locator("#iteration-2-judge")).ToContainTextAsync("selftaught-e1-it1");

        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new() { Path = Path.Combine(E2EEnvironment.ArtifactsDirectory, "e2e-experiment-pipeline.png"), FullPage = true });
        Assert.Empty(errors);
    }

    /// <summary>Waits until the latest stage run matching <paramref name="which"/> has completed; fails at once if it failed.</summary>
    private static async Task WaitForCompletedAsync(IDbContextFactory<SelfTaughtDbContext> contexts, System.Linq.Expressions.Expression<Func<StageRun, bool>> which, string what)
    {
        for (var waited = 0; ; waited += 100)
        {
            await using (var db = await contexts.CreateDbContextAsync(Ct))
            {
                var run = await db.StageRuns.AsNoTracking().Where(which).OrderByDescending(r => r.Id).FirstOrDefaultAsync(Ct);
                if (run is { Status: StageStatus.Completed }) return;
                Assert.False(run is { Status: StageStatus.Failed }, $"the {what} run failed: {run?.LastError}");
            }
            Assert.True(waited < 60_000, $"no {what} run completed");
            await Task.Delay(100, Ct);
        }
    }
}
