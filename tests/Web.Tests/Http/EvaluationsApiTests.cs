using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Evaluation;
using SelfTaught.SimBackend;

namespace SelfTaught.Web.Tests.Http;

/// <summary>The evaluation routes: start and read a run against SimBackend, and score external results.</summary>
public sealed class EvaluationsApiTests
{
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    private static string SharedFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine([dir.FullName, "shared", "data", .. parts]);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"shared/data/{string.Join('/', parts)} not found above {AppContext.BaseDirectory}.");
    }

    private static async Task<JsonElement> WaitForRunAsync(HttpClient client, long runId)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>($"/api/stage-runs/{runId}", Ct);
            if (run.GetProperty("status").GetString() is "Completed" or "Failed" or "Cancelled") return run;
            if (clock.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException(run.ToString());
            await Task.Delay(50, Ct);
        }
    }

    private static async Task<long> ImportAsync(HttpClient client, string path)
    {
        using var response = await client.PostAsJsonAsync("/api/datasets/import", new { path, preset = "rewardbench" }, Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        var started = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Completed", (await WaitForRunAsync(client, started.GetProperty("stageRunId").GetInt64())).GetProperty("status").GetString());
        return started.GetProperty("datasetId").GetInt64();
    }

    private static async Task<HttpResponseMessage> PostResultsAsync(HttpClient client, long datasetId, IEnumerable<string> lines, string benchmark = "rewardbench", bool allowMissing = false)
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent(benchmark), "benchmark" },
            { new StringContent(datasetId.ToString(System.Globalization.CultureInfo.InvariantCulture)), "datasetId" },
            { new StringContent("external-rm"), "modelName" },
            { new StringContent(allowMissing ? "true" : "false"), "allowMissing" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(string.Join('\n', lines))), "file", "results.jsonl" },
        };
        return await client.PostAsync("/api/evaluations/import", form, Ct);
    }

    [Fact]
    public async Task Import_ScoresExternalResultsOnTheWholeRewardBench_WithTheOfficialArithmetic_AndRejectsBadFilesWhole()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var datasetId = await ImportAsync(client, SharedFile("rewardbench", "rewardbench_filtered.jsonl"));
        var rows = File.ReadLines(SharedFile("rewardbench", "rewardbench_filtered.jsonl"))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Select(r => (Subset: r.GetProperty("subset").GetString()!, Id: r.GetProperty("id").ToString())).ToList();
        Assert.Equal(2_985, rows.Count);

        // Scores made up per row; a third of the rows give a verdict instead (in one order), the rest a score.
        static double ScoreOf(int i) => i % 5 == 0 ? 0.5 : i % 3 == 0 ? 0 : 1;
        var lines = rows.Select((r, i) => i % 3 == 1
            ? JsonSerializer.Serialize(new { subset = r.Subset, id = r.Id, verdict = i % 2 == 0 ? "A" : "B", chosenPosition = "A" })
            : JsonSerializer.Serialize(new { subset = r.Subset, id = r.Id, score = ScoreOf(i) })).ToList();
        var expected = RewardBenchScoring.Score(rows.Select((r, i) => (r.Subset, i % 3 == 1 ? (i % 2 == 0 ? 1.0 : 0.0) : ScoreOf(i))));

        using var response = await PostResultsAsync(client, datasetId, lines);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var evaluation = await client.GetFromJsonAsync<JsonElement>($"/api/evaluations/{body.GetProperty("id").GetInt64()}", Ct);
        foreach (var view in new[] { body, evaluation })
        {
            Assert.Equal("Completed", view.GetProperty("status").GetString());
            Assert.Equal("rewardbench", view.GetProperty("benchmark").GetString());
            Assert.True(view.GetProperty("imported").GetBoolean());
            Assert.Equal(expected.Overall, view.GetProperty("overall").GetDouble(), 10);
            foreach (var (section, score) in expected.Sections)
                Assert.Equal(score, view.GetProperty("sections").GetProperty(section).GetDouble(), 10);
            foreach (var (subset, score) in expected.Subsets)
                Assert.Equal(score, view.GetProperty("subsets").GetProperty(subset).GetDouble(), 10);
            Assert.Equal(984, view.GetProperty("subsetDetails").GetProperty("math-prm").GetProperty("weight").GetInt32());
            Assert.Equal(2_985, view.GetProperty("judged").GetInt32());
            var interval = view.GetProperty("intervals").GetProperty("overall");
            Assert.InRange(expected.Overall, interval.GetProperty("low").GetDouble(), interval.GetProperty("high").GetDouble());
        }

        // Bad files are refused whole, naming the problem; nothing more is stored.
        var unknownSubset = await PostResultsAsync(client, datasetId, [.. lines, """{"subset":"not-a-subset","id":"1","score":1}"""]);
        var duplicate = await PostResultsAsync(client, datasetId, [.. lines, lines[7]]);
        var missing = await PostResultsAsync(client, datasetId, lines.Skip(10));
        var noId = await PostResultsAsync(client, datasetId, [.. lines.Skip(1), """{"subset":"hep-go","score":1}"""]);
        var badScore = await PostResultsAsync(client, datasetId, [.. lines.Skip(1), JsonSerializer.Serialize(new { subset = rows[0].Subset, id = rows[0].Id, score = 1.5 })]);
        var wrongDataset = await PostResultsAsync(client, 999, lines);
        var unknownBenchmark = await PostResultsAsync(client, datasetId, lines, benchmark: "alpacaeval");
        Assert.Equal(HttpStatusCode.BadRequest, unknownSubset.StatusCode);
        Assert.Contains("Unknown subsets: not-a-subset", await unknownSubset.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        Assert.Contains("duplicate of line 8", await duplicate.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("10 of the data set's 2985 examples have no row", await missing.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, noId.StatusCode);
        Assert.Contains("no 'id'", await noId.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, badScore.StatusCode);
        Assert.Contains("between 0 and 1", await badScore.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, wrongDataset.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknownBenchmark.StatusCode);
        await using (var db = factory.Database.CreateContext())
            Assert.Equal(1, await db.EvaluationRuns.CountAsync(Ct));

        // With allowMissing the rest is scored and the missing examples are counted as not judged.
        using var partial = await PostResultsAsync(client, datasetId, lines.Skip(10), allowMissing: true);
        var partialView = await partial.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(HttpStatusCode.Created, partial.StatusCode);
        Assert.Equal(10, partialView.GetProperty("errors").GetProperty("notJudged").GetInt32());
    }

    [Fact]
    public async Task Start_RunsAnEvaluationAgainstTheBackend_AndGetReturnsItsScores()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { MalformedRate = 0.1 }, Ct);
        await using var factory = new SelfTaughtWebFactory()
            .With("Inference:Endpoints:0:Name", "sim")
            .With("Inference:Endpoints:0:Kind", "Ollama")
            .With("Inference:Endpoints:0:BaseUrl", sim.BaseUri)
            .With("Inference:Endpoints:0:DefaultModel", "sim-judge");
        using var client = factory.CreateClient();
        var small = Path.Combine(Path.GetTempPath(), $"selftaught-rb-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(small, File.ReadLines(SharedFile("rewardbench", "rewardbench_filtered.jsonl"))
            .GroupBy(l => JsonDocument.Parse(l).RootElement.GetProperty("subset").GetString()).SelectMany(g => g.Take(2)), Ct);
        long datasetId;
        try
        {
            datasetId = await ImportAsync(client, small);
        }
        finally
        {
            File.Delete(small);
        }

        using var start = await client.PostAsJsonAsync("/api/evaluations",
            new { benchmark = "rewardbench", datasetId, model = "sim-judge", positionMode = "chosen-second", seeds = new[] { 5 } }, Ct);
        Assert.Equal(HttpStatusCode.Created, start.StatusCode);
        var started = await start.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Completed", (await WaitForRunAsync(client, started.GetProperty("stageRunId").GetInt64())).GetProperty("status").GetString());
        var id = started.GetProperty("evaluationId").GetInt64();
        var view = await client.GetFromJsonAsync<JsonElement>($"/api/evaluations/{id}", Ct);
        var results = await client.GetFromJsonAsync<JsonElement>($"/api/evaluations/{id}/results?subset=hep-go&pageSize=10", Ct);
        var list = await client.GetFromJsonAsync<JsonElement>("/api/evaluations", Ct);

        Assert.Equal("Completed", view.GetProperty("status").GetString());
        Assert.Equal("chosen-second", view.GetProperty("positionMode").GetString());
        Assert.False(view.GetProperty("partial").GetBoolean());
        Assert.False(string.IsNullOrEmpty(view.GetProperty("modelDigest").GetString()));
        Assert.Equal([5L], view.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt64()));
        Assert.Equal(23, view.GetProperty("subsets").EnumerateObject().Count());
        Assert.Equal(["Chat", "Chat Hard", "Safety", "Reasoning"], view.GetProperty("sections").EnumerateObject().Select(s => s.Name));
        Assert.InRange(view.GetProperty("overall").GetDouble(), 0, 100);
        // chosen-second: every judgment has the chosen response as B.
        Assert.Equal(0, view.GetProperty("positionBias").GetProperty("chosenAsA").GetProperty("count").GetInt32());
        Assert.Equal(46, view.GetProperty("positionBias").GetProperty("chosenAsB").GetProperty("count").GetInt32());
        Assert.Equal(2, results.GetProperty("totalCount").GetInt32());
        Assert.All(results.GetProperty("items").EnumerateArray(), r => Assert.Equal("B", r.GetProperty("chosenPosition").GetString()));
        Assert.Equal(1, list.GetProperty("totalCount").GetInt32());

        using var unknownBenchmark = await client.PostAsJsonAsync("/api/evaluations", new { benchmark = "alpacaeval", datasetId, model = "sim-judge" }, Ct);
        using var unknownDataset = await client.PostAsJsonAsync("/api/evaluations", new { benchmark = "rewardbench", datasetId = 999, model = "sim-judge" }, Ct);
        using var unknownRun = await client.GetAsync("/api/evaluations/999", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, unknownBenchmark.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownDataset.StatusCode);
        Assert.Contains("Dataset 999 does not exist", await unknownDataset.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, unknownRun.StatusCode);
    }
}
