using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SelfTaught.Core.Data.Entities;
using SelfTaught.SimBackend;

namespace SelfTaught.Web.Tests.Http;

/// <summary>The iteration routes: judge estimate and start, statistics, a pair's judgments, candidate models and M_i.</summary>
public sealed class IterationsApiTests
{
    private static CancellationToken Ct => Xunit.TestContext.Current.CancellationToken;

    [Fact]
    public async Task Judge_ThenRegisterAndChooseAModel_WalksAnIterationThroughTheApi()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { JudgeAccuracy = 0.9 }, Ct);
        await using var factory = new SelfTaughtWebFactory()
            .With("Inference:Endpoints:0:Name", "sim")
            .With("Inference:Endpoints:0:Kind", "Ollama")
            .With("Inference:Endpoints:0:BaseUrl", sim.BaseUri)
            .With("Inference:Endpoints:0:DefaultModel", "sim-judge");
        using var client = factory.CreateClient();
        var (experimentId, pairIds) = await SeedExperimentAsync(factory, client, pairs: 6);

        var estimate = await (await client.PostAsJsonAsync($"/api/experiments/{experimentId}/iterations/1/stages/judge/estimate", new { samples = 3 }, Ct))
            .Content.ReadFromJsonAsync<JsonElement>(Ct);
        using var invalid = await client.PostAsJsonAsync($"/api/experiments/{experimentId}/iterations/1/stages/judge", new { samples = 0 }, Ct);
        using var malformed = await client.PostAsync($"/api/experiments/{experimentId}/iterations/1/stages/judge",
            new StringContent("{ \"samples\": ", System.Text.Encoding.UTF8, "application/json"), Ct);
        using var unknown = await client.PostAsJsonAsync($"/api/experiments/{experimentId}/iterations/7/stages/judge", new { }, Ct);
        using var unknownStage = await client.PostAsJsonAsync($"/api/experiments/{experimentId}/stages/judge", new { }, Ct);
        using var unknownIterationStage = await client.PostAsJsonAsync($"/api/experiments/{experimentId}/iterations/1/stages/select", new { }, Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknownStage.StatusCode);
        Assert.Contains("experiment stages are select and generate-pairs", await unknownStage.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, unknownIterationStage.StatusCode);
        Assert.Contains("iteration stages are judge and build-training-set", await unknownIterationStage.Content.ReadAsStringAsync(Ct));
        using var start = await client.PostAsJsonAsync($"/api/experiments/{experimentId}/iterations/1/stages/judge", new { samples = 3 }, Ct);
        var runId = (await start.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("stageRunId").GetInt64();
        await WaitForAsync(client, runId);

        var iteration = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/iterations/1", Ct);
        var judgments = await client.GetFromJsonAsync<JsonElement>($"/api/pairs/{pairIds[0]}/judgments?iteration=1", Ct);
        using var notJudged = await client.GetAsync($"/api/pairs/{pairIds[0]}/judgments?iteration=2", Ct);

        Assert.Equal((6L, 18L), (estimate.GetProperty("items").GetInt64(), estimate.GetProperty("calls").GetInt64()));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("settings.judging.samples must be 1–256, not 0", await invalid.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        Assert.Equal("Judged", iteration.GetProperty("status").GetString());
        var statistics = iteration.GetProperty("statistics");
        Assert.Equal((6, 3), (statistics.GetProperty("pairsJudged").GetInt32(), statistics.GetProperty("samplesPerPair").GetInt32()));
        Assert.Equal(3, iteration.GetProperty("judging").GetProperty("samples").GetInt32());
        Assert.Equal(6, iteration.GetProperty("statisticsJson").GetProperty("judging").GetProperty("pairsJudged").GetInt32());
        Assert.Equal(3, judgments.GetProperty("samples").GetArrayLength());
        Assert.Equal(1, judgments.GetProperty("iteration").GetInt32());
        Assert.Contains("[[", judgments.GetProperty("samples")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, notJudged.StatusCode);
        var experimentView = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}", Ct);
        Assert.Equal(6, experimentView.GetProperty("iterations")[0].GetProperty("statistics").GetProperty("pairsJudged").GetInt32());

        // Register two checkpoints, refuse a duplicate, choose one: iteration 2 is judged by it.
        using var first = await client.PostAsJsonAsync($"/api/experiments/{experimentId}/iterations/1/models", new { name = "step 200", model = "judge-it1-200", checkpoint = 200 }, Ct);
        using var second = await client.PostAsJsonAsync($"/api/experiments/{experimentId}/iterations/1/models", new { name = "step 400", model = "judge-it1-400", endpoint = "sim", checkpoint = 400 }, Ct);
        using var duplicate = await client.PostAsJsonAsync($"/api/experiments/{experimentId}/iterations/1/models", new { name = "again", model = "judge-it1-200" }, Ct);
        using var nameless = await client.PostAsJsonAsync($"/api/experiments/{experimentId}/iterations/1/models", new { model = "x" }, Ct);
        var chosenId = (await second.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetInt64();
        using var choose = await client.PostAsync($"/api/experiments/{experimentId}/iterations/1/models/{chosenId}/choose", null, Ct);
        using var chooseUnknown = await client.PostAsync($"/api/experiments/{experimentId}/iterations/1/models/999/choose", null, Ct);
        var afterChoice = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/iterations/1", Ct);
        var next = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/iterations/2", Ct);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, nameless.StatusCode);
        Assert.Contains("name is required", await nameless.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.OK, choose.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, chooseUnknown.StatusCode);
        Assert.Equal("Completed", afterChoice.GetProperty("status").GetString());
        Assert.Equal([false, true], afterChoice.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("isChosen").GetBoolean()));
        Assert.Equal(("judge-it1-400", "sim"), (next.GetProperty("judgeModel").GetProperty("model").GetString(), next.GetProperty("judgeModel").GetProperty("endpoint").GetString()));
        Assert.Equal("Created", next.GetProperty("status").GetString());
        Assert.Equal(3, next.GetProperty("judging").GetProperty("samples").GetInt32());
    }

    private static async Task<(long ExperimentId, List<long> PairIds)> SeedExperimentAsync(SelfTaughtWebFactory factory, HttpClient client, int pairs)
    {
        _ = factory.Server;
        long pool;
        await using (var db = factory.Database.CreateContext())
        {
            var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = 1, CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(Ct);
            pool = dataset.Id;
        }
        using var created = await client.PostAsJsonAsync("/api/experiments", new { name = "iterations", datasetId = pool, seedModel = new { model = "sim-judge" } }, Ct);
        var experimentId = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetInt64();
        var ids = new List<long>();
        await using (var db = factory.Database.CreateContext())
        {
            for (var i = 0; i < pairs; i++)
            {
                var pair = new Pair
                {
                    ExperimentId = experimentId, Method = PairMethod.Labeled, Prompt = $"Prompt {i}", Chosen = $"A careful answer {i}.",
                    Rejected = $"A weak answer {i}. That is the gist of it.", Status = PairStatus.Ready, CreatedAt = DateTime.UtcNow,
                };
                db.Pairs.Add(pair);
                await db.SaveChangesAsync(Ct);
                ids.Add(pair.Id);
            }
        }
        return (experimentId, ids);
    }

    private static async Task WaitForAsync(HttpClient client, long runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>($"/api/stage-runs/{runId}", Ct);
            var status = run.GetProperty("status").GetString();
            if (status == "Completed") return;
            if (status == "Failed" || DateTime.UtcNow > deadline) Assert.Fail($"The judge run ended {status}: {run}");
            await Task.Delay(50, Ct);
        }
    }
}
