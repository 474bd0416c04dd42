using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Data;
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

    [Fact]
    public async Task SelectPanel_PreviewsStartsAndShowsTheSelection_WithItsContamination()
    {
        var pool = await SeedDatasetAsync("pool", DatasetRole.InstructionPool);
        await using (var db = Database.CreateContext())
        {
            db.Instructions.AddRange(Enumerable.Range(0, 9).Select(i => new Instruction
            {
                DatasetId = pool, RowIndex = i, Text = i == 0 ? "What is 2 + 2?" : $"Prove statement {i}", Language = "English",
                Category = i % 3 == 0 ? "Math" : "Coding", Complexity = i + 1, LengthBucket = 'c', AnalyzedAt = DateTime.UtcNow,
            }));
            await db.SaveChangesAsync(Cancellation);
        }
        var experiment = await Services.GetRequiredService<ExperimentService>().CreateAsync(
            new CreateExperimentRequest { Name = "e", DatasetId = pool, SeedModel = new("m"), Seed = 3 }, cancellationToken: Cancellation);
        var cut = Render<ExperimentPage>(p => p.Add(x => x.Id, experiment.Id));
        cut.WaitForAssertion(() => cut.Find("#select-preview"));

        cut.FindComponents<MudBlazor.MudNumericField<int?>>().Single(f => f.Instance.Label == "At most").Find("input").Change("2");
        await cut.InvokeAsync(() => cut.Find("#select-preview").Click());
        cut.WaitForAssertion(() => Assert.Contains("9 match the filters; 2 will be selected", OneLine(cut.Find("#select-preview-result").TextContent)));
        Assert.Contains("no model calls", cut.Find("#select-preview-result").TextContent);
        await cut.InvokeAsync(() => cut.Find("#select-start").Click());

        cut.WaitForAssertion(() => Assert.Contains("Queued", cut.Find("#select-run-status").TextContent));
        await using var check = Database.CreateContext();
        var run = await check.StageRuns.SingleAsync(Cancellation);
        Assert.Equal((StageKind.Select, experiment.Id), (run.Kind, run.ExperimentId));
        Assert.Contains("\"maxCount\":2", run.SettingsJson);

        // A finished selection (written here as the stage would) is summarized with its contaminated rows.
        var first = await check.Instructions.Where(i => i.DatasetId == pool).OrderBy(i => i.RowIndex).Select(i => i.Id).Take(2).ToListAsync(Cancellation);
        check.ExperimentInstructions.AddRange(
            new ExperimentInstruction { ExperimentId = experiment.Id, InstructionId = first[0], Contamination = ContaminationKind.ExactMatch, ContaminationMatch = "gsm8k / main / q2", Excluded = true },
            new ExperimentInstruction { ExperimentId = experiment.Id, InstructionId = first[1] });
        await check.SaveChangesAsync(Cancellation);
        var again = Render<ExperimentPage>(p => p.Add(x => x.Id, experiment.Id));
        again.WaitForAssertion(() => Assert.Contains("2 selected: 1 go on to pair synthesis, 1 excluded; 1 exact and 0 n-gram", OneLine(again.Find("#select-current").TextContent)));
        var row = Assert.Single(again.FindAll("#select-contaminated tbody tr"));
        Assert.Contains("What is 2 + 2?", row.TextContent);
        Assert.Contains("gsm8k / main / q2", row.TextContent);
    }

    [Fact]
    public async Task IterationPanel_EstimatesStartsJudging_ShowsStatistics_AndChoosesAModel()
    {
        var pool = await SeedDatasetAsync("pool", DatasetRole.InstructionPool);
        var experiment = await Services.GetRequiredService<ExperimentService>().CreateAsync(
            new CreateExperimentRequest { Name = "it", DatasetId = pool, SeedModel = new("llama3.1:8b"), Seed = 5 }, cancellationToken: Cancellation);
        long iterationId;
        await using (var db = Database.CreateContext())
        {
            iterationId = await db.Iterations.Where(i => i.ExperimentId == experiment.Id).Select(i => i.Id).SingleAsync(Cancellation);
            for (var i = 0; i < 4; i++)
                db.Pairs.Add(new Pair { ExperimentId = experiment.Id, Method = PairMethod.Labeled, Prompt = $"x{i}", Chosen = "good", Rejected = "bad", Status = PairStatus.Ready, CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync(Cancellation);
        }
        var cut = Render<ExperimentPage>(p => p.Add(x => x.Id, experiment.Id));
        cut.WaitForAssertion(() => cut.Find("#judge-1-estimate"));

        cut.FindComponents<MudBlazor.MudNumericField<int>>().Single(f => f.Instance.Label == "Samples N").Find("input").Change("5");
        await cut.InvokeAsync(() => cut.Find("#judge-1-estimate").Click());
        cut.WaitForAssertion(() => Assert.Contains("4 items: 20 calls", cut.Find("#judge-1-estimate-result").TextContent));
        await cut.InvokeAsync(() => cut.Find("#judge-1-start").Click());
        cut.WaitForAssertion(() => Assert.Contains("Queued", cut.Find("#judge-1-running").TextContent));
        await using (var db = Database.CreateContext())
        {
            var run = await db.StageRuns.SingleAsync(Cancellation);
            Assert.Equal((StageKind.Judge, iterationId), (run.Kind, run.IterationId));
            Assert.Contains("\"samples\":5", run.SettingsJson);
            // Judgments as the stage writes them: 3 kept pairs (4, 2, 5 correct of 5) and 1 dropped.
            var pairs = await db.Pairs.Where(p => p.ExperimentId == experiment.Id).OrderBy(p => p.Id).Select(p => p.Id).ToListAsync(Cancellation);
            int[] correct = [4, 2, 5, 0];
            for (var i = 0; i < 4; i++)
            {
                var annotation = new Annotation
                {
                    IterationId = iterationId, PairId = pairs[i], JudgePrompt = "p", Status = correct[i] > 0 ? AnnotationStatus.Kept : AnnotationStatus.Dropped,
                    KeptSampleIndex = correct[i] > 0 ? 0 : null, FullN = true, SamplesDrawn = 5, CorrectCount = correct[i], CreatedAt = DateTime.UtcNow,
                };
                db.Annotations.Add(annotation);
                await db.SaveChangesAsync(Cancellation);
                db.JudgmentSamples.AddRange(Enumerable.Range(0, 5).Select(k => new JudgmentSample
                {
                    AnnotationId = annotation.Id, IterationId = iterationId, PairId = pairs[i], SampleIndex = k, Correct = k < correct[i],
                    Verdict = k < correct[i] ? Verdict.A : Verdict.B, RawCompletion = "[[A]]", CreatedAt = DateTime.UtcNow,
                }));
            }
            await db.SaveChangesAsync(Cancellation);
        }

        var judged = Render<ExperimentPage>(p => p.Add(x => x.Id, experiment.Id));
        judged.WaitForAssertion(() => Assert.Contains("4", judged.Find("#stat-1-judged").TextContent));
        Assert.Contains("55%", judged.Find("#iteration-1-rates").TextContent); // 11 of 20 samples agree
        Assert.Contains("75%", judged.Find("#iteration-1-rates").TextContent); // 3 of 4 pairs have a correct sample
        Assert.Contains("Another run judges only the pairs made since", judged.Find("#judge-1-settings").TextContent);

        await judged.InvokeAsync(() => judged.Find("#candidate-1-register").Click());
        judged.WaitForAssertion(() => Assert.Contains("name is required", judged.Find("#candidate-1-error").TextContent));
        judged.Find("#candidate-1-name").Change("step 100");
        judged.Find("#candidate-1-model").Change("judge-it1");
        await judged.InvokeAsync(() => judged.Find("#candidate-1-register").Click());
        judged.WaitForAssertion(() => Assert.Single(judged.FindAll("#iteration-1-candidates tbody tr")));
        await judged.InvokeAsync(() => judged.FindAll("#iteration-1-candidates button").Single().Click());

        judged.WaitForAssertion(() => Assert.Contains("judge-it1", judged.Find("#iteration-2-judge").TextContent));
        Assert.Contains("M1", judged.Find("#iteration-1-candidates").TextContent);
        Assert.Equal(2, judged.FindAll("#experiment-iterations tbody tr").Count);
    }

    [Fact]
    public async Task IterationPanel_ChoosesTheJudgeTemplateVersion_BeforeJudging()
    {
        var pool = await SeedDatasetAsync("pool", DatasetRole.InstructionPool);
        var experiment = await Services.GetRequiredService<ExperimentService>().CreateAsync(
            new CreateExperimentRequest { Name = "templates", DatasetId = pool, SeedModel = new("m"), Seed = 2 }, cancellationToken: Cancellation);
        var templates = Services.GetRequiredService<SelfTaught.Core.Prompts.PromptTemplateService>();
        await using (var db = Database.CreateContext())
            await SelfTaught.Core.Prompts.PromptTemplateStore.EnsureAllBuiltInAsync(db, DateTime.UtcNow, Cancellation);
        long builtIn;
        await using (var db = Database.CreateContext())
            builtIn = await db.PromptTemplates.Where(t => t.Key == SelfTaught.Core.Prompts.PromptLibrary.JudgePairwise).Select(t => t.Id).SingleAsync(Cancellation);
        var source = (await templates.GetAsync(builtIn, Cancellation))!;
        var copy = await templates.CopyAsync(builtIn, new SelfTaught.Core.Prompts.TemplateEdit("stricter judge", source.SystemText + " Be strict.", source.UserText), Cancellation);

        var cut = Render<ExperimentPage>(p => p.Add(x => x.Id, experiment.Id));
        cut.WaitForAssertion(() => cut.Find("#judge-1-estimate"));
        var select = cut.FindComponents<MudBlazor.MudSelect<long?>>().Single(s => s.Instance.Label == "Judge prompt template");
        await cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(copy.Summary.Id));

        await using var check = Database.CreateContext();
        Assert.Equal(copy.Summary.Id, (await check.Iterations.SingleAsync(i => i.ExperimentId == experiment.Id, Cancellation)).JudgeTemplateId);
        cut.WaitForAssertion(() => Assert.Contains("v2: stricter judge", cut.Markup, StringComparison.Ordinal));
    }

    private static string OneLine(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");

    private async Task<long> SeedDatasetAsync(string name, DatasetRole role)
    {
        await using var db = Database.CreateContext();
        var dataset = new Dataset { Name = name, Role = role, Status = DatasetStatus.Ready, RowCount = 10, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Cancellation);
        return dataset.Id;
    }
}
