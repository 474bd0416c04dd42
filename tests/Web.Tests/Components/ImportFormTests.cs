using System.Text.Json;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Web.Components.Pages.Data;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>The Data page's Import panel: it starts an Import stage run, or says inline why it cannot.</summary>
public sealed class ImportFormTests : DatabaseBunitContext
{
    [Fact]
    public async Task Start_CreatesAnImportingDatasetAndAnImportRun_WhenAServerPathIsGiven()
    {
        var file = Path.Combine(Path.GetTempPath(), $"selftaught-import-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 5).Select(i => JsonSerializer.Serialize(new { prompt = $"Explain idea {i}." })), Cancellation);
        try
        {
            var cut = Render<DataPage>();
            cut.Find("#import-open").Click();
            cut.Find("#import-source-path").Click();
            cut.WaitForAssertion(() => cut.Find("#import-path"));
            cut.Find("#import-path").Input(file);
            cut.Find("#import-name").Input("Ideas");
            cut.Find("#import-start").Click();

            cut.WaitForAssertion(() => Assert.Equal("/jobs", cut.Find("#import-started a").GetAttribute("href")));
            await using var db = Database.CreateContext();
            var dataset = await db.Datasets.SingleAsync(Cancellation);
            var run = await db.StageRuns.SingleAsync(Cancellation);
            Assert.Equal("Ideas", dataset.Name);
            Assert.Equal(DatasetStatus.Importing, dataset.Status);
            Assert.Equal(StageKind.Import, run.Kind);
            Assert.Equal(dataset.Id, run.DatasetId);
            Assert.Equal([run.Id], Scheduler.Starts);
            Assert.Empty(cut.FindAll("[data-testid=import-error]"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task MtBenchHuman_OffersTheAnswersAndQuestionsPaths_AndStoresThemWithTheRequest()
    {
        var folder = Directory.CreateTempSubdirectory("selftaught-mtbench-").FullName;
        var votes = Path.Combine(folder, "votes.jsonl");
        var answers = Path.Combine(folder, "answers.jsonl");
        var questions = Path.Combine(folder, "questions.jsonl");
        await File.WriteAllTextAsync(votes, JsonSerializer.Serialize(new { question_id = 81, judge = "expert_1", model_a = "m1", model_b = "m2", winner = "tie" }), Cancellation);
        await File.WriteAllTextAsync(answers, JsonSerializer.Serialize(new { question_id = 81, model = "m1", answer = "A." }), Cancellation);
        await File.WriteAllTextAsync(questions, JsonSerializer.Serialize(new { question_id = 81, category = "writing", turns = new[] { "Q?", "F?" } }), Cancellation);
        try
        {
            var cut = Render<ImportForm>();
            Assert.Empty(cut.FindAll("#import-answers-path"));
            await cut.InvokeAsync(() => cut.FindComponents<MudBlazor.MudSelect<string>>().Single(s => s.Instance.Label == "Preset").Instance.ValueChanged.InvokeAsync("mtbench-human"));

            // An upload carries one file: the form says the two-file form needs server paths.
            cut.WaitForAssertion(() => Assert.Contains("give the answers and questions files as server paths", cut.Find("#import-mtbench-upload-note").TextContent));
            cut.Find("#import-source-path").Click();
            cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#import-mtbench-upload-note")));
            cut.Find("#import-path").Input(votes);
            cut.Find("#import-answers-path").Input(answers);
            cut.Find("#import-questions-path").Input(questions);
            cut.Find("#import-start").Click();

            cut.WaitForAssertion(() => cut.Find("#import-started"));
            await using var db = Database.CreateContext();
            var dataset = await db.Datasets.SingleAsync(Cancellation);
            var request = SelfTaught.Core.Import.ImportRequest.FromJson(dataset.OptionsJson!);
            Assert.Equal((DatasetRole.Benchmark, "mtbench-human"), (dataset.Role, dataset.Preset));
            Assert.Equal((answers, questions), (request.AnswersPath, request.QuestionsPath));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Start_ShowsTheErrorNamingThePath_WhenTheFileIsMissing()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"selftaught-missing-{Guid.NewGuid():N}.jsonl");
        var cut = Render<ImportForm>();
        cut.Find("#import-source-path").Click();
        cut.WaitForAssertion(() => cut.Find("#import-path"));
        cut.Find("#import-path").Input(missing);
        cut.Find("#import-start").Click();

        cut.WaitForAssertion(() => Assert.Contains($"The file '{missing}' does not exist.", cut.Find("[data-testid=import-error]").TextContent));
        Assert.Empty(cut.FindAll("#import-started"));
        await using var db = Database.CreateContext();
        Assert.Equal(0, await db.Datasets.CountAsync(Cancellation));
        Assert.Equal(0, await db.StageRuns.CountAsync(Cancellation));
    }

    [Fact]
    public async Task Start_SavesTheUploadBesideTheDatabase_AndImportsItAsAnUpload()
    {
        var lines = string.Join('\n', Enumerable.Range(0, 3).Select(i => JsonSerializer.Serialize(new { prompt = $"Explain idea {i}." })));
        var cut = Render<ImportForm>();
        cut.FindComponent<Microsoft.AspNetCore.Components.Forms.InputFile>().UploadFiles(InputFileContent.CreateFromText(lines, "ideas.jsonl"));
        cut.Find("#import-start").Click();

        cut.WaitForAssertion(() => cut.Find("#import-started"));
        await using var db = Database.CreateContext();
        var dataset = await db.Datasets.SingleAsync(Cancellation);
        var source = Assert.IsType<SelfTaught.Core.Import.UploadedFileSource>(SelfTaught.Core.Import.ImportRequest.FromJson(dataset.OptionsJson!).Source);
        try
        {
            Assert.Equal("ideas.jsonl", dataset.Name);
            Assert.Equal(Path.Combine(Path.GetDirectoryName(Database.FilePath)!, "uploads"), Path.GetDirectoryName(source.Path));
            Assert.Equal(lines, await File.ReadAllTextAsync(source.Path, Cancellation));
        }
        finally
        {
            File.Delete(source.Path);
        }
    }

    [Fact]
    public async Task DataPage_ListsAndOpensTheDataset_WhenTheImportItStartedCompletes()
    {
        var clock = new ManualTimeProvider();
        Services.AddSingleton<TimeProvider>(clock);
        var cut = await StartImportAsync();
        cut.WaitForAssertion(() => Assert.Equal(1, clock.ActiveTimers(DataPage.RefreshInterval)));
        // Nothing is listed while the job runs (here: while nothing has run at all).
        clock.Fire(DataPage.RefreshInterval);
        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".empty-state")));

        // What the import job does when it finishes: the dataset becomes Ready with its counts, the run Completed.
        await using (var db = Database.CreateContext())
        {
            await db.Datasets.ExecuteUpdateAsync(u => u.SetProperty(d => d.Status, DatasetStatus.Ready).SetProperty(d => d.RowCount, 4)
                .SetProperty(d => d.RejectedCount, 1).SetProperty(d => d.DuplicateCount, 0), Cancellation);
            await db.StageRuns.ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, StageStatus.Completed), Cancellation);
        }
        clock.Fire(DataPage.RefreshInterval);

        cut.WaitForAssertion(() => Assert.Contains("Imported “Ideas”: 4 rows kept, 1 rejected, 0 dropped as duplicates.", cut.Find("#import-finished").TextContent));
        cut.WaitForAssertion(() => Assert.Contains("Ideas", Assert.Single(cut.FindAll("#datasets-table tbody tr")).TextContent));
        cut.WaitForAssertion(() => Assert.Contains("Ideas", cut.Find("#dataset-import-details h3").TextContent));
        cut.WaitForAssertion(() => Assert.Equal(0, clock.ActiveTimers(DataPage.RefreshInterval)));
    }

    [Fact]
    public async Task DataPage_ShowsWhyTheImportFailed_WhenItsRunFails()
    {
        var clock = new ManualTimeProvider();
        Services.AddSingleton<TimeProvider>(clock);
        var cut = await StartImportAsync();

        // A failed import removes its dataset and leaves the reason on the run.
        await using (var db = Database.CreateContext())
        {
            await db.Datasets.ExecuteDeleteAsync(Cancellation);
            await db.StageRuns.ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, StageStatus.Failed)
                .SetProperty(r => r.LastError, "None of the 5 rows of 'ideas.jsonl' could be imported: 5 × empty-prompt"), Cancellation);
        }
        clock.Fire(DataPage.RefreshInterval);

        cut.WaitForAssertion(() => Assert.Contains("ended failed: None of the 5 rows of 'ideas.jsonl' could be imported", cut.Find("#import-failed").TextContent));
        Assert.Single(cut.FindAll(".empty-state"));
        Assert.Empty(cut.FindAll("#import-finished"));
        cut.WaitForAssertion(() => Assert.Equal(0, clock.ActiveTimers(DataPage.RefreshInterval)));
    }

    // Starts an import of a server file named "Ideas" from the Data page; the recording scheduler runs nothing.
    private async Task<IRenderedComponent<DataPage>> StartImportAsync()
    {
        var file = Path.Combine(Path.GetTempPath(), $"selftaught-import-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 5).Select(i => JsonSerializer.Serialize(new { prompt = $"Explain idea {i}." })), Cancellation);
        try
        {
            var cut = Render<DataPage>();
            cut.WaitForAssertion(() => cut.Find(".empty-state"));
            cut.Find("#import-open").Click();
            cut.Find("#import-source-path").Click();
            cut.WaitForAssertion(() => cut.Find("#import-path"));
            cut.Find("#import-path").Input(file);
            cut.Find("#import-name").Input("Ideas");
            cut.Find("#import-start").Click();
            cut.WaitForAssertion(() => cut.Find("#import-started"));
            return cut;
        }
        finally
        {
            File.Delete(file);
        }
    }
}
