using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace SelfTaught.Web.Tests.Http;

/// <summary><c>POST /api/datasets/import</c> as a stage run on the real app, with real shared data and uploads.</summary>
[Collection(WebAppCollection.Name)]
public sealed class ImportApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Import_OfTheWildChatSample_RunsAsAStage_AndListsTheDatasetWhenDone()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/datasets/import",
            new { path = SharedFile("wildchat", "wildchat_1k_noveltybench.jsonl"), preset = "wildchat", name = "WildChat 1k" }, Ct);
        var started = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var run = await WaitForRunAsync(client, started.GetProperty("stageRunId").GetInt64());
        var datasets = await client.GetFromJsonAsync<JsonElement>("/api/datasets", Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Completed", run.GetProperty("status").GetString());
        Assert.Equal("Import", run.GetProperty("kind").GetString());
        Assert.Equal(999, run.GetProperty("done").GetInt32());
        Assert.Equal(1, run.GetProperty("skipped").GetInt32());
        Assert.Equal(1000, run.GetProperty("total").GetInt32());
        var dataset = Assert.Single(datasets.GetProperty("items").EnumerateArray());
        Assert.Equal("WildChat 1k", dataset.GetProperty("name").GetString());
        Assert.Equal(999, dataset.GetProperty("rowCount").GetInt32());
    }

    [Fact]
    public async Task Cancelling_AnImport_RemovesItsDatasetRowsAndUpload()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var lines = string.Join('\n', Enumerable.Range(0, 400_000).Select(i => $"{{\"prompt\":\"Explain idea number {i} with an example.\"}}"));
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes(lines)), "file", "many.jsonl" },
            { new StringContent("instructions"), "preset" },
        };
        var uploads = Path.Combine(Path.GetDirectoryName(factory.Database.FilePath)!, "uploads");
        var before = Directory.Exists(uploads) ? Directory.GetFiles(uploads).ToHashSet() : [];
        using var response = await client.PostAsync("/api/datasets/import", form, Ct);
        var started = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var runId = started.GetProperty("stageRunId").GetInt64();
        var datasetId = started.GetProperty("datasetId").GetInt64();
        var upload = Assert.Single(Directory.GetFiles(uploads), f => !before.Contains(f));

        // Cancel once rows are being stored.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using (var db = factory.Database.CreateContext())
                if (await db.Instructions.AnyAsync(i => i.DatasetId == datasetId, Ct)) break;
            Assert.True(DateTime.UtcNow < deadline, "the import never started storing rows");
            await Task.Delay(20, Ct);
        }
        using var cancel = await client.PostAsync($"/api/stage-runs/{runId}/cancel", null, Ct);
        var run = await WaitForRunAsync(client, runId);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal("Cancelled", run.GetProperty("status").GetString());
        await using var check = factory.Database.CreateContext();
        Assert.False(await check.Datasets.AnyAsync(d => d.Id == datasetId, Ct));
        Assert.Equal(0, await check.Instructions.CountAsync(Ct));
        Assert.False(File.Exists(upload), "the upload is deleted with the dataset");
    }

    [Fact]
    public async Task Import_OfAnUploadedJsonlFile_StoresItsRows()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var lines = string.Join('\n', Enumerable.Range(0, 25).Select(i => JsonSerializer.Serialize(new { prompt = $"Explain idea number {i}.", id = $"q{i}" })));
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes(lines)), "file", "ideas.jsonl" },
            { new StringContent("instructions"), "preset" },
        };

        using var response = await client.PostAsync("/api/datasets/import", form, Ct);
        var started = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var run = await WaitForRunAsync(client, started.GetProperty("stageRunId").GetInt64());

        Assert.Equal("Completed", run.GetProperty("status").GetString());
        await using var db = factory.Database.CreateContext();
        var datasetId = started.GetProperty("datasetId").GetInt64();
        Assert.Equal(25, await db.Instructions.CountAsync(i => i.DatasetId == datasetId, Ct));
        Assert.Equal("q7", (await db.Instructions.SingleAsync(i => i.DatasetId == datasetId && i.RowIndex == 7, Ct)).SourceId);
    }

    [Fact]
    public async Task Import_Fails_LeavingNoDataset_WhenTheFileHasNoRows()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var empty = Path.Combine(Path.GetTempPath(), $"selftaught-empty-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllTextAsync(empty, "", Ct);
        try
        {
            using var response = await client.PostAsJsonAsync("/api/datasets/import", new { path = empty, preset = "instructions" }, Ct);
            var started = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            var run = await WaitForRunAsync(client, started.GetProperty("stageRunId").GetInt64());

            Assert.Equal("Failed", run.GetProperty("status").GetString());
            Assert.Contains("no rows", run.GetProperty("lastError").GetString(), StringComparison.OrdinalIgnoreCase);
            await using var db = factory.Database.CreateContext();
            Assert.Equal(0, await db.Datasets.CountAsync(Ct));
        }
        finally
        {
            File.Delete(empty);
        }
    }

    [Fact]
    public async Task Import_Returns400NamingTheProblem_WhenTheFileIsMissing()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/datasets/import", new { path = "/no/such/prompts.jsonl", preset = "instructions" }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("/no/such/prompts.jsonl", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Import_OfMtBenchHumanVotesByPath_JoinsTheAnswersAndQuestionsBesideThem_AsABenchmark()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();

        // The shared two-file form: answers and questions are found at their default places.
        using var response = await client.PostAsJsonAsync("/api/datasets/import",
            new { path = SharedFile("mt_bench_human", "human_judgments.jsonl"), preset = "mtbench-human", name = "MT-Bench human" }, Ct);
        var started = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var run = await WaitForRunAsync(client, started.GetProperty("stageRunId").GetInt64());
        var datasetId = started.GetProperty("datasetId").GetInt64();
        var details = await client.GetFromJsonAsync<JsonElement>($"/api/datasets/{datasetId}", Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Completed", run.GetProperty("status").GetString());
        Assert.Equal((1689, 0, 0), (run.GetProperty("done").GetInt32(), run.GetProperty("failed").GetInt32(), run.GetProperty("skipped").GetInt32()));
        var dataset = details.GetProperty("dataset");
        Assert.Equal(("Benchmark", "mtbench-human", 1689), (dataset.GetProperty("role").GetString(), dataset.GetProperty("preset").GetString(), dataset.GetProperty("rowCount").GetInt32()));
        var report = details.GetProperty("report");
        Assert.StartsWith("two-file form", report.GetProperty("sourceForm").GetString(), StringComparison.Ordinal);
        Assert.Equal(["answers", "questions"], report.GetProperty("files").EnumerateArray().Skip(1).Select(f => f.GetProperty("joinedAs").GetString()));
        await using var db = factory.Database.CreateContext();
        Assert.Equal(1048, await db.LabeledPairs.CountAsync(p => p.DatasetId == datasetId && p.Turn == 1 && p.Judge!.StartsWith("expert") && p.Gold != SelfTaught.Core.Data.Entities.GoldLabel.Tie, Ct));
    }

    [Fact]
    public async Task Import_OfUploadedMtBenchVotes_ReadsTheAnswersAndQuestionsFromTheServerPathsInTheForm()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var votes = string.Join('\n', File.ReadLines(SharedFile("mt_bench_human", "human_judgments.jsonl")).Take(40));
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(Encoding.UTF8.GetBytes(votes)), "file", "votes.jsonl" },
            { new StringContent("mtbench-human"), "preset" },
            { new StringContent(SharedFile("mt_bench_human", "human_judgment_answers.jsonl")), "answersPath" },
            { new StringContent(SharedFile("mt_bench", "question.jsonl")), "questionsPath" },
        };

        using var response = await client.PostAsync("/api/datasets/import", form, Ct);
        var started = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var run = await WaitForRunAsync(client, started.GetProperty("stageRunId").GetInt64());

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("Completed", run.GetProperty("status").GetString());
        Assert.Equal(40, run.GetProperty("done").GetInt32());
    }

    [Fact]
    public async Task Import_Returns400NamingTheAnswersFile_WhenAnswersPathDoesNotExist()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/datasets/import",
            new { path = SharedFile("mt_bench_human", "human_judgments.jsonl"), preset = "mtbench-human", answersPath = "/no/such/answers.jsonl" }, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("The answers file '/no/such/answers.jsonl' (answersPath) does not exist.", await response.Content.ReadAsStringAsync(Ct));
        await using var db = factory.Database.CreateContext();
        Assert.Equal(0, await db.Datasets.CountAsync(Ct));
    }

    private static async Task<JsonElement> WaitForRunAsync(HttpClient client, long runId)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>($"/api/stage-runs/{runId}", Ct);
            if (run.GetProperty("status").GetString() is "Completed" or "Failed" or "Cancelled") return run;
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException(run.ToString());
            await Task.Delay(50, Ct);
        }
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
