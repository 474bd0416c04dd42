using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Http;

/// <summary>The <c>build-training-set</c> route and the training-set downloads on the real app (Hangfire in memory).</summary>
[Collection(WebAppCollection.Name)]
public sealed class TrainingSetsApiTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _exports = Path.Combine(Path.GetTempPath(), "selftaught-exports-" + Guid.NewGuid().ToString("N"));

    private SelfTaughtWebFactory Factory() => new SelfTaughtWebFactory().With("Exports:Folder", _exports);

    [Fact]
    public async Task Build_ThenDownloads_ServeTheFiles_TheManifestAndTheSummary()
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        await using var db = factory.Database.CreateContext();
        var (experimentId, _) = await TrainingData.SeedJudgedIterationAsync(db, 15, Ct);
        var root = $"/api/experiments/{experimentId}/iterations/1";

        var estimate = await client.GetFromJsonAsync<JsonElement>($"{root}/stages/build-training-set/estimate", Ct);
        using var started = await client.PostAsJsonAsync($"{root}/stages/build-training-set", new { maxLengthTokens = 2048 }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var runId = (await started.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("stageRunId").GetInt64();
        Assert.Equal($"/api/stage-runs/{runId}", started.Headers.Location?.OriginalString);
        var run = await WaitForRunAsync(client, runId);

        Assert.Equal("Completed", run.GetProperty("status").GetString());
        Assert.Equal((0, 10), (estimate.GetProperty("calls").GetInt64(), estimate.GetProperty("items").GetInt64()));

        using var sft = await client.GetAsync($"{root}/training-set/sft", Ct);
        Assert.Equal(HttpStatusCode.OK, sft.StatusCode);
        Assert.Equal("application/jsonl", sft.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", sft.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal($"experiment-{experimentId}-iteration-1-sft.jsonl", sft.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var sftBytes = await sft.Content.ReadAsByteArrayAsync(Ct);
        var sftLines = Encoding.UTF8.GetString(sftBytes).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // 10 kept judgments of pairs not held out, 8 gold A and 2 gold B: balanced to 2 + 2.
        Assert.Equal(4, sftLines.Length);
        Assert.All(sftLines, line => Assert.Equal("assistant", JsonDocument.Parse(line).RootElement.GetProperty("completion")[0].GetProperty("role").GetString()));

        using var manifestResponse = await client.GetAsync($"{root}/training-set/manifest", Ct);
        Assert.Equal("application/json", manifestResponse.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"experiment-{experimentId}-iteration-1-manifest.json", manifestResponse.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var manifest = JsonDocument.Parse(await manifestResponse.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(sftBytes)), manifest.GetProperty("files")[0].GetProperty("sha256").GetString());
        var counts = manifest.GetProperty("counts");
        Assert.Equal((15, 3, 10, 2, 6, 36), (counts.GetProperty("annotations").GetInt32(), counts.GetProperty("heldOutExcluded").GetInt32(),
            counts.GetProperty("kept").GetInt32(), counts.GetProperty("droppedNoCorrectSample").GetInt32(), counts.GetProperty("parseFailures").GetInt32(),
            counts.GetProperty("samples").GetInt32()));
        Assert.Equal((8, 2, 2, 2), (manifest.GetProperty("sft").GetProperty("goldABeforeBalancing").GetInt32(), manifest.GetProperty("sft").GetProperty("goldBBeforeBalancing").GetInt32(),
            manifest.GetProperty("sft").GetProperty("goldA").GetInt32(), manifest.GetProperty("sft").GetProperty("goldB").GetInt32()));
        Assert.Equal((6, 4, 4), (manifest.GetProperty("dpo").GetProperty("candidates").GetInt32(), manifest.GetProperty("dpo").GetProperty("pairsWithoutIncorrectSample").GetInt32(),
            manifest.GetProperty("dpo").GetProperty("rows").GetInt32()));
        Assert.Equal(2048, manifest.GetProperty("length").GetProperty("maxLengthTokens").GetInt32());

        foreach (var (kind, key) in new[] { ("dpo", "rejected"), ("openai", "messages") })
        {
            using var response = await client.GetAsync($"{root}/training-set/{kind}", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"experiment-{experimentId}-iteration-1-{kind}.jsonl", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
            var lines = (await response.Content.ReadAsStringAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(4, lines.Length);
            Assert.All(lines, line => Assert.True(JsonDocument.Parse(line).RootElement.TryGetProperty(key, out _)));
        }

        var summary = await client.GetFromJsonAsync<JsonElement>($"{root}/training-set", Ct);
        Assert.True(summary.GetProperty("built").GetBoolean());
        Assert.Equal("TrainingSetBuilt", summary.GetProperty("iterationStatus").GetString());
        Assert.Equal((4, 2, 2), (summary.GetProperty("sft").GetProperty("size").GetInt32(), summary.GetProperty("sft").GetProperty("goldA").GetInt32(), summary.GetProperty("dpo").GetProperty("goldB").GetInt32()));
        Assert.Equal($"{root}/training-set/openai", summary.GetProperty("downloads").GetProperty("openai").GetString());
        Assert.Equal(runId, summary.GetProperty("stageRunId").GetInt64());
        var experiment = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}", Ct);
        Assert.Equal("TrainingSetBuilt", experiment.GetProperty("iterations")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task Routes_AnswerProblemDetails_NamingWhatIsMissingOrWrong()
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        await using var db = factory.Database.CreateContext();
        var (judged, _) = await TrainingData.SeedJudgedIterationAsync(db, 6, Ct);
        var (judging, _) = await TrainingData.SeedJudgedIterationAsync(db, 6, Ct, IterationStatus.Judging);

        await AssertProblemAsync(await client.PostAsync("/api/experiments/999/iterations/1/stages/build-training-set", null, Ct), HttpStatusCode.NotFound, "Experiment 999 does not exist");
        await AssertProblemAsync(await client.PostAsync($"/api/experiments/{judged}/iterations/3/stages/build-training-set", null, Ct), HttpStatusCode.NotFound, "has no iteration 3");
        await AssertProblemAsync(await client.PostAsync($"/api/experiments/{judging}/iterations/1/stages/build-training-set", null, Ct), HttpStatusCode.Conflict, "not been judged completely");
        await AssertProblemAsync(await client.PostAsJsonAsync($"/api/experiments/{judged}/iterations/1/stages/build-training-set", new { maxLengthTokens = 0 }, Ct),
            HttpStatusCode.BadRequest, "maxLengthTokens must be positive");
        await AssertProblemAsync(await client.PostAsync($"/api/experiments/{judged}/iterations/1/stages/build-training-set",
            new StringContent("[1]", Encoding.UTF8, "application/json"), Ct), HttpStatusCode.BadRequest, "not valid training-set settings");
        await AssertProblemAsync(await client.GetAsync($"/api/experiments/{judged}/iterations/1/training-set/sft", Ct), HttpStatusCode.NotFound, "has no training set yet");
        await AssertProblemAsync(await client.GetAsync($"/api/experiments/{judged}/iterations/1/training-set/manifest", Ct), HttpStatusCode.NotFound, "has no training set yet");
        await AssertProblemAsync(await client.GetAsync($"/api/experiments/{judged}/iterations/1/training-set/csv", Ct), HttpStatusCode.NotFound, "no 'csv' export");
        await AssertProblemAsync(await client.GetAsync($"/api/experiments/{judged}/iterations/9/training-set", Ct), HttpStatusCode.NotFound, "has no iteration 9");
        var summary = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{judged}/iterations/1/training-set", Ct);
        Assert.False(summary.GetProperty("built").GetBoolean());
        Assert.Empty(summary.GetProperty("downloads").EnumerateObject());
    }

    [Fact]
    public async Task Build_WithOnlyDroppedJudgments_IsAConflictSayingThereIsNothingToTrainOn()
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        await using var db = factory.Database.CreateContext();
        var (experimentId, iterationId) = await TrainingData.SeedJudgedIterationAsync(db, 6, Ct);
        await db.Annotations.Where(a => a.IterationId == iterationId).ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AnnotationStatus.Dropped), Ct);

        await AssertProblemAsync(await client.PostAsync($"/api/experiments/{experimentId}/iterations/1/stages/build-training-set", null, Ct),
            HttpStatusCode.Conflict, "nothing to train on");
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        }
    }

    private static async Task<JsonElement> WaitForRunAsync(HttpClient client, long runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>($"/api/stage-runs/{runId}", Ct);
            if (run.GetProperty("status").GetString() is "Completed" or "Failed" or "Cancelled") return run;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Stage run {runId} is still {run.GetProperty("status").GetString()}.");
            await Task.Delay(50, Ct);
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_exports, recursive: true); } catch (DirectoryNotFoundException) { /* never built */ }
    }
}
