using System.Net;
using System.Net.Http.Json;
using System.Text;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Web.Tests.Http;

/// <summary>Stage-run control routes and the refusals around starting runs, on the real app.</summary>
[Collection(WebAppCollection.Name)]
public sealed class StageRunsApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("pause")]
    [InlineData("resume")]
    [InlineData("cancel")]
    [InlineData("retry-failed")]
    public async Task Control_OfAnUnknownRun_Is404(string action)
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();

        using var response = await client.PostAsync($"/api/stage-runs/777/{action}", null, Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Stage run 777 does not exist", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Control_OfAFinishedRun_Is409_AndAnImportCannotBePaused()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        _ = factory.Server;
        long finished, importing;
        await using (var db = factory.Database.CreateContext())
        {
            var done = new StageRun { Kind = StageKind.Categorize, Status = StageStatus.Completed, SettingsJson = "{}", CreatedAt = DateTime.UtcNow };
            var import = new StageRun { Kind = StageKind.Import, Status = StageStatus.Running, SettingsJson = "{}", CreatedAt = DateTime.UtcNow };
            db.StageRuns.AddRange(done, import);
            await db.SaveChangesAsync(Ct);
            (finished, importing) = (done.Id, import.Id);
        }

        using var cancel = await client.PostAsync($"/api/stage-runs/{finished}/cancel", null, Ct);
        using var pause = await client.PostAsync($"/api/stage-runs/{importing}/pause", null, Ct);

        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Contains("already finished", await cancel.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.Conflict, pause.StatusCode);
        Assert.Contains("an import cannot be paused", await pause.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Categorize_WhileAnotherRunCategorizesTheDataset_Is409()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        _ = factory.Server;
        long datasetId, active;
        await using (var db = factory.Database.CreateContext())
        {
            var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = 1, CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(Ct);
            db.Instructions.Add(new Instruction { DatasetId = dataset.Id, RowIndex = 0, Text = "Explain recursion." });
            var run = new StageRun { Kind = StageKind.Categorize, DatasetId = dataset.Id, Status = StageStatus.Paused, SettingsJson = "{}", CreatedAt = DateTime.UtcNow };
            db.StageRuns.Add(run);
            await db.SaveChangesAsync(Ct);
            (datasetId, active) = (dataset.Id, run.Id);
        }

        using var response = await client.PostAsJsonAsync($"/api/datasets/{datasetId}/categorize", new { model = "m" }, Ct);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains($"Stage run {active} is still categorizing dataset {datasetId}", await response.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData("dedupe", "yes", "must be true or false")]
    [InlineData("minPromptLength", "abc", "must be a whole number")]
    [InlineData("role", "Judge", "must be one of InstructionPool, LabeledPairs, Benchmark")]
    public async Task Import_WithABadFormField_Is400_NamingTheField(string field, string value, string message)
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes("{\"prompt\":\"hi\"}\n")), "file", "p.jsonl" },
            { new StringContent("instructions"), "preset" },
            { new StringContent(value), field },
        };

        using var response = await client.PostAsync("/api/datasets/import", form, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"'{field}'", body);
        Assert.Contains(message, body);
    }
}
