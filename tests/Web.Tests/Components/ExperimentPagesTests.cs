using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Inference;
using SelfTaught.Web.Components.Backends;
using SelfTaught.Web.Components.Pages.Experiments;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>The Experiments page's New experiment form and an experiment's own page.</summary>
public sealed class ExperimentPagesTests : DatabaseBunitContext
{
    public ExperimentPagesTests() =>
        Services.AddSingleton(Options.Create(new InferenceOptions
        {
            Endpoints = [new EndpointOptions { Name = "gpu-a", BaseUrl = "http://127.0.0.1:9", DefaultModel = "llama3.1:8b" }],
        }));

    [Fact]
    public async Task NewExperiment_WithoutAnInstructionPool_PointsToTheDataPage()
    {
        await SeedDatasetAsync("benchmark", DatasetRole.LabeledPairs);

        var cut = Render<NewExperimentForm>();

        cut.WaitForAssertion(() => Assert.Contains("Import one on the", cut.Find("#new-experiment-no-pool").TextContent));
        Assert.Empty(cut.FindAll("#new-experiment-create"));
    }

    [Fact]
    public async Task NewExperiment_CreatesItWithThePapersDefaults_AndOpensItsPage()
    {
        var pool = await SeedDatasetAsync("wildchat reasoning", DatasetRole.InstructionPool);
        var cut = Render<NewExperimentForm>();
        cut.WaitForAssertion(() => cut.Find("#new-experiment-name"));

        cut.Find("#new-experiment-name").Input("reasoning v1");
        await cut.InvokeAsync(() => cut.Find("#new-experiment-create").Click());

        var navigation = Services.GetRequiredService<NavigationManager>();
        await using var db = Database.CreateContext();
        var experiment = await db.Experiments.Include(e => e.Iterations).SingleAsync(Cancellation);
        Assert.EndsWith($"/experiments/{experiment.Id}", navigation.Uri);
        Assert.Equal(("reasoning v1", pool), (experiment.Name, experiment.InstructionDatasetId));
        // The seed model defaults to the configured endpoint's default model; generator and judge to the seed model.
        Assert.Equal(("llama3.1:8b", "llama3.1:8b", "llama3.1:8b"), (experiment.SeedModel, experiment.GeneratorModel, experiment.JudgeModel));
        Assert.Equal(new ExperimentSettings(), ExperimentSettings.FromJson(experiment.SettingsJson));
        Assert.Equal((1, 15), (experiment.Iterations[0].Number, experiment.Iterations[0].SamplesPerPair));
    }

    [Fact]
    public async Task NewExperiment_WithASeparateJudge_StoresIt()
    {
        await SeedDatasetAsync("pool", DatasetRole.InstructionPool);
        var cut = Render<NewExperimentForm>();
        cut.WaitForAssertion(() => cut.Find("#new-experiment-name"));
        cut.Find("#new-experiment-name").Input("paper");

        cut.FindComponents<MudBlazor.MudSwitch<bool>>().Single(s => s.Instance.Label!.StartsWith("Another model judges", StringComparison.Ordinal))
            .Find("input").Change(true);
        var judge = cut.FindComponents<ModelPicker>().Single(p => p.Instance.Id == "new-experiment-judge");
        await cut.InvokeAsync(() => judge.Instance.ModelChanged.InvokeAsync("mixtral:8x22b"));
        await cut.InvokeAsync(() => judge.Instance.EndpointChanged.InvokeAsync("gpu-a"));
        await cut.InvokeAsync(() => cut.Find("#new-experiment-create").Click());

        await using var db = Database.CreateContext();
        var experiment = await db.Experiments.SingleAsync(Cancellation);
        Assert.Equal(("mixtral:8x22b", "gpu-a"), (experiment.JudgeModel, experiment.JudgeEndpoint));
        Assert.Equal(("llama3.1:8b", null), (experiment.GeneratorModel, experiment.GeneratorEndpoint));
    }

    [Fact]
    public async Task NewExperiment_ShowsEveryProblem_AndStoresNothing()
    {
        await SeedDatasetAsync("pool", DatasetRole.InstructionPool);
        var cut = Render<NewExperimentForm>();
        cut.WaitForAssertion(() => cut.Find("#new-experiment-name"));
        // A separate judge switched on but left without a model must not silently become the seed model.
        cut.FindComponents<MudBlazor.MudSwitch<bool>>().Single(s => s.Instance.Label!.StartsWith("Another model judges", StringComparison.Ordinal))
            .Find("input").Change(true);

        await cut.InvokeAsync(() => cut.Find("#new-experiment-create").Click());

        var problems = cut.Find("#new-experiment-problems").TextContent;
        Assert.Contains("Give the experiment a name.", problems);
        Assert.Contains("judgeModel.model is required", problems);
        await using var db = Database.CreateContext();
        Assert.Equal(0, await db.Experiments.CountAsync(Cancellation));
    }

    [Fact]
    public async Task ExperimentPage_ShowsModelsSettingsAndIterations()
    {
        var pool = await SeedDatasetAsync("wildchat", DatasetRole.InstructionPool);
        var experiments = Services.GetRequiredService<ExperimentService>();
        var experiment = await experiments.CreateAsync(new CreateExperimentRequest
        {
            Name = "paper", DatasetId = pool, SeedModel = new("llama-3-70b"), JudgeModel = new("mixtral-8x22b", "gpu-a"), Seed = 77,
            Settings = new ExperimentSettings { Judging = new JudgingSettings { Samples = 32, EarlyStop = true } },
        }, cancellationToken: Cancellation);

        var cut = Render<ExperimentPage>(p => p.Add(x => x.Id, experiment.Id));

        cut.WaitForAssertion(() => Assert.Equal("llama-3-70b", cut.Find("#experiment-seed-model").TextContent.Trim()));
        Assert.Equal("mixtral-8x22b @ gpu-a", cut.Find("#experiment-judge-model").TextContent.Trim());
        Assert.Equal("77", cut.Find("#experiment-seed").TextContent.Trim());
        Assert.Contains("N = 32", cut.Find("#experiment-judging").TextContent);
        Assert.Contains("early stop", cut.Find("#experiment-judging").TextContent);
        var row = Assert.Single(cut.FindAll("#experiment-iterations tbody tr"));
        Assert.Contains("mixtral-8x22b @ gpu-a", row.TextContent);
        Assert.Contains("Created", row.TextContent);
    }

    [Fact]
    public void ExperimentPage_OfAnUnknownExperiment_SaysSo()
    {
        var cut = Render<ExperimentPage>(p => p.Add(x => x.Id, 4242));

        cut.WaitForAssertion(() => Assert.Contains("There is no experiment 4242", cut.Markup));
    }

    private async Task<long> SeedDatasetAsync(string name, DatasetRole role)
    {
        await using var db = Database.CreateContext();
        var dataset = new Dataset { Name = name, Role = role, Status = DatasetStatus.Ready, RowCount = 10, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Cancellation);
        return dataset.Id;
    }
}
