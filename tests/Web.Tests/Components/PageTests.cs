using Microsoft.Extensions.DependencyInjection;
using Bunit;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Web.Components.Pages.Audit;
using SelfTaught.Web.Components.Pages.Dashboard;
using SelfTaught.Web.Components.Pages.Data;
using SelfTaught.Web.Components.Pages.Evaluations;
using SelfTaught.Web.Components.Pages.Experiments;
using SelfTaught.Web.Components.Pages.Jobs;
using SelfTaught.Web.Components.Pages.Judgments;
using SelfTaught.Web.Components.Pages.Pairs;
using SelfTaught.Web.Components.Pages.Settings;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>Every section page against a real, migrated SQLite file: empty states first, rows once they exist.</summary>
public sealed class PageTests : DatabaseBunitContext
{
    private static readonly DateTime Created = new(2025, 1, 31, 14, 5, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(typeof(DataPage), "No datasets yet")]
    [InlineData(typeof(ExperimentsPage), "No experiments yet")]
    [InlineData(typeof(PairsPage), "No pairs yet")]
    [InlineData(typeof(JudgmentsPage), "No judgments yet")]
    [InlineData(typeof(EvaluationsPage), "No evaluations yet")]
    [InlineData(typeof(AuditPage), "No audit sessions yet")]
    [InlineData(typeof(JobsPage), "No jobs have run yet")]
    [InlineData(typeof(SettingsPage), "No prompt templates stored yet")]
    public void Render_ShowsEmptyState_WhenDatabaseHasNoRows(Type page, string emptyTitle)
    {
        var cut = Render(builder =>
        {
            builder.OpenComponent(0, page);
            builder.CloseComponent();
        });

        cut.WaitForAssertion(() => Assert.Contains(emptyTitle, cut.Find("[data-testid=empty-state]").TextContent));
        // Configured backends are configuration, not data: only the Settings page's backend table may have rows.
        Assert.DoesNotContain(cut.FindAll("tr.mud-table-row"), row => row.Closest("#backends-table") is null);
    }

    [Fact]
    public async Task DataPage_ListsDataset_WhenOneWasImported()
    {
        await Database.AddAsync(Cancellation, new Dataset
        {
            Name = "wildchat-reasoning", Role = DatasetRole.InstructionPool, RowCount = 20582, CreatedAt = Created,
        });

        var cut = Render<DataPage>();

        cut.WaitForAssertion(() =>
        {
            var row = cut.Find("#datasets-table tbody tr");
            Assert.Contains("wildchat-reasoning", row.TextContent);
            Assert.Contains("InstructionPool", row.TextContent);
            Assert.Contains(20582.ToString("N0"), row.TextContent);
            Assert.Contains("2025-01-31 14:05 UTC", row.TextContent);
        });
        Assert.Empty(cut.FindAll("[data-testid=empty-state]"));
    }

    [Fact]
    public async Task DashboardPage_CountsDatasetsAndSuggestsExperiment_WhenOnlyAPoolExists()
    {
        var cut = Render<DashboardPage>();
        cut.WaitForAssertion(() => Assert.Contains("Import an instruction pool", cut.Find("#next-step").TextContent));
        Assert.Equal("0", cut.Find("#stat-datasets [data-testid=value]").TextContent.Trim());

        await Database.AddAsync(Cancellation, new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, CreatedAt = Created });
        cut = Render<DashboardPage>();

        cut.WaitForAssertion(() => Assert.Contains("Create an experiment", cut.Find("#next-step").TextContent));
        Assert.Equal("1", cut.Find("#stat-datasets [data-testid=value]").TextContent.Trim());
        Assert.Equal("0", cut.Find("#stat-experiments [data-testid=value]").TextContent.Trim());
    }

    [Fact]
    public async Task JobsPage_ShowsProgressOfStageRun_WhenOneIsRunning()
    {
        await Database.AddAsync(Cancellation, new StageRun
        {
            Kind = StageKind.Judge, Status = StageStatus.Running, Total = 10, Done = 3, Failed = 1, CreatedAt = Created,
        });

        var cut = Render<JobsPage>();

        cut.WaitForAssertion(() =>
        {
            var row = cut.Find("#jobs-grid tbody tr");
            Assert.Contains("Judge", row.TextContent);
            Assert.Contains("Running", row.TextContent);
            Assert.Contains("3 done, 1 failed, 0 skipped of 10", row.TextContent);
            Assert.Equal("40", row.QuerySelector("[role=progressbar]")?.GetAttribute("aria-valuenow"));
        });
        Assert.Equal("/hangfire", cut.Find("#hangfire-link").GetAttribute("href"));
    }

    [Fact]
    public async Task PairsPage_WithAnExperimentFilter_ListsOnlyItsPairs()
    {
        var pool = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, CreatedAt = Created };
        Experiment NewExperiment(string name) => new() { Name = name, InstructionDataset = pool, SeedModel = "seed", GeneratorModel = "gen", JudgeModel = "judge", CreatedAt = Created };
        var first = NewExperiment("first");
        var second = NewExperiment("second");
        await Database.AddAsync(Cancellation,
            new Pair { Experiment = first, Prompt = "Only in the first", Chosen = "a", Rejected = "b", Method = PairMethod.ModifiedInstruction, Status = PairStatus.Ready, CreatedAt = Created },
            new Pair { Experiment = second, Prompt = "Only in the second", Chosen = "a", Rejected = "b", Method = PairMethod.ModifiedInstruction, Status = PairStatus.Ready, CreatedAt = Created });
        Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo($"/pairs?experiment={first.Id}");

        var cut = Render<PairsPage>();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("#pairs-grid tbody tr")));
        Assert.Contains("Only in the first", cut.Find("#pairs-grid tbody tr").TextContent);
        Assert.Contains($"experiment {first.Id}", cut.Find("#pairs-filter").TextContent);
    }

    [Fact]
    public async Task PairsPage_ListsPair_WhenAnExperimentHasOne()
    {
        var pool = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, CreatedAt = Created };
        var experiment = new Experiment
        {
            Name = "llama-judge", InstructionDataset = pool, SeedModel = "seed", GeneratorModel = "gen", JudgeModel = "judge",
            CreatedAt = Created,
        };
        await Database.AddAsync(Cancellation, new Pair
        {
            Experiment = experiment, Prompt = "What is 17 * 23?", Chosen = "391", Rejected = "401",
            Method = PairMethod.ModifiedInstruction, Status = PairStatus.Ready, CreatedAt = Created,
        });

        var cut = Render<PairsPage>();

        cut.WaitForAssertion(() =>
        {
            var row = cut.Find("#pairs-grid tbody tr");
            Assert.Contains("llama-judge", row.TextContent);
            Assert.Contains("ModifiedInstruction", row.TextContent);
            Assert.Contains("What is 17 * 23?", row.TextContent);
        });
        Assert.Empty(cut.FindAll("[data-testid=empty-state]"));
    }

    [Fact]
    public async Task SettingsPage_ShowsDatabaseFileAndBackend_WhenAnEndpointIsStored()
    {
        var errors = await Services.GetRequiredService<SelfTaught.Web.Backends.BackendCatalog>().SaveAsync(new()
        {
            Name = "local-ollama", Kind = SelfTaught.Inference.EndpointKind.Ollama, BaseUrl = "http://127.0.0.1:11434", DefaultModel = "llama3.1:8b",
        }, null, Cancellation);
        Assert.Empty(errors);
        await using (var db = Database.CreateContext())
            Assert.Equal("local-ollama", (await db.BackendEndpoints.SingleAsync(Cancellation)).Name);

        var cut = Render<SettingsPage>();

        // A stored endpoint replaces the built-in local Ollama default.
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll("#backends-table tbody tr")));
        var row = cut.Find("#backends-table tbody tr");
        Assert.Contains("local-ollama", row.TextContent);
        Assert.Contains("database", row.TextContent);
        Assert.DoesNotContain("built-in default", cut.Find("#backends-table").TextContent);
        Assert.Contains(Database.FilePath, cut.Find("#settings-data-source").TextContent);
        Assert.Equal("InMemory", cut.Find("#settings-hangfire-storage").TextContent.Trim());
        // The template table is still empty and says so.
        Assert.Contains("No prompt templates stored yet", cut.Find("[data-testid=empty-state]").TextContent);
    }

    [Fact]
    public async Task JobsPage_ShowsNewRunWithoutReload_WhenAStageStartsWhileOpen()
    {
        var cut = Render<JobsPage>();
        cut.WaitForAssertion(() => Assert.Contains("No jobs have run yet", cut.Markup));

        await Database.AddAsync(Cancellation, new StageRun
        {
            Kind = StageKind.Import, Status = StageStatus.Queued, Total = 5, CreatedAt = Created,
        });

        cut.WaitForAssertion(() => Assert.Contains("Import", cut.Find("#jobs-grid tbody tr").TextContent));
    }

    [Fact]
    public async Task JobsPage_UpdatesProgressWithoutReload_WhenARunningStageAdvances()
    {
        var run = new StageRun { Kind = StageKind.Judge, Status = StageStatus.Running, Total = 4, Done = 1, CreatedAt = Created };
        await Database.AddAsync(Cancellation, run);
        var cut = Render<JobsPage>();
        cut.WaitForAssertion(() => Assert.Equal("25", ProgressOf(cut, run.Id)));

        await using (var db = Database.CreateContext())
        {
            await db.StageRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(
                set => set.SetProperty(r => r.Done, 4).SetProperty(r => r.Status, StageStatus.Completed), Cancellation);
        }

        cut.WaitForAssertion(() => Assert.Equal("100", ProgressOf(cut, run.Id)));
    }

    private static string? ProgressOf(IRenderedComponent<JobsPage> cut, long runId) =>
        cut.Find($"#stage-run-progress-{runId}").GetAttribute("aria-valuenow")
        ?? cut.Find($"#stage-run-progress-{runId} [role=progressbar]").GetAttribute("aria-valuenow");
}
