using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using static Microsoft.Playwright.Assertions;

namespace SelfTaught.Web.E2E;

/// <summary>From an instruction pool on the Data page to a new experiment and its selection, in a real browser.</summary>
[Collection(nameof(HangfireHostCollection))]
public sealed class ExperimentFlowTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NewExperiment_FromAPool_OpensItsPage_WhereSelectionRuns()
    {
        await using var app = new KestrelAppFactory();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await E2EEnvironment.LaunchChromiumAsync(playwright);
        app.StartServer();
        long pool;
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<SelfTaughtDbContext>>().CreateDbContextAsync(Ct))
        {
            var dataset = new Dataset { Name = "reasoning prompts", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = 12, CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(Ct);
            db.Instructions.AddRange(Enumerable.Range(0, 12).Select(i => new Instruction { DatasetId = dataset.Id, RowIndex = i, Text = $"Prove claim number {i}." }));
            await db.SaveChangesAsync(Ct);
            pool = dataset.Id;
        }
        var (page, errors) = await E2EEnvironment.OpenPageAsync(browser);

        await page.GotoAsync($"{app.BaseUrl}/data?dataset={pool}");
        // Followed at once, while the page may still be connecting its circuit: it must still land on the form.
        await page.Locator("#pool-new-experiment").ClickAsync();
        await Expect(page.Locator("#new-experiment")).ToBeVisibleAsync();
        await Expect(page.Locator("#new-experiment .mud-select").First).ToContainTextAsync("reasoning prompts");
        // Clicks before the circuit is connected are lost: Create on the empty form answers once it is (naming what is missing).
        await E2EEnvironment.ClickUntilAsync(page, page.Locator("#new-experiment-create"), "() => document.querySelector('#new-experiment-problems') !== null");
        await Expect(page.Locator("#new-experiment-problems")).ToContainTextAsync("Give the experiment a name.");
        var name = page.Locator("#new-experiment-name");
        await name.FillAsync("first run");
        await page.Locator("#new-experiment-seed-model").FillAsync("llama3.1:70b");
        await page.Locator("#new-experiment-seed-model").PressAsync("Enter");
        await page.Locator("#new-experiment-create").ClickAsync();

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/experiments/\\d+$"));
        await Expect(page.Locator("h1")).ToHaveTextAsync("first run");
        await Expect(page.Locator("#experiment-seed-model")).ToHaveTextAsync("llama3.1:70b");
        await page.Locator("#select-preview").ClickAsync();
        await Expect(page.Locator("#select-preview-result")).ToContainTextAsync("12 will be selected");
        await page.Locator("#select-start").ClickAsync();
        await Expect(page.Locator("#select-run")).ToContainTextAsync("Stage run");
        // The run goes on in the background (the Jobs page follows it); once it has stored the selection, the page shows it.
        var contexts = app.Services.GetRequiredService<IDbContextFactory<SelfTaughtDbContext>>();
        for (var waited = 0; ; waited += 50)
        {
            await using (var db = await contexts.CreateDbContextAsync(Ct))
                if (await db.StageRuns.AnyAsync(r => r.Kind == StageKind.Select && r.Status == StageStatus.Completed, Ct)) break;
            Assert.True(waited < 30_000, "the select run did not complete");
            await Task.Delay(50, Ct);
        }
        await page.ReloadAsync();
        await Expect(page.Locator("#select-current")).ToContainTextAsync("12 selected");
        await page.EvaluateAsync("() => window.scrollTo(0, 0)"); // a full-page shot of a scrolled page draws the fixed app bar mid-page
        await page.ScreenshotAsync(new() { Path = Path.Combine(E2EEnvironment.ArtifactsDirectory, "e2e-experiment.png"), FullPage = true });
        Assert.Empty(errors);
    }
}
