using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.SimBackend;

namespace SelfTaught.Web.Tests.Http;

/// <summary>
/// <c>POST /api/experiments/{id}/stages/generate-pairs</c> (and <c>/estimate</c>), <c>GET /api/experiments/{id}/pairs</c>
/// (and <c>/summary</c>) and <c>GET /api/pairs/{id}</c> on the real app, its generator being SimBackend on loopback.
/// </summary>
[Collection(WebAppCollection.Name)]
public sealed class PairsApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GeneratePairs_EstimatesStartsAndStoresPairs_WhichTheListAndDetailRoutesShow()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { MalformedRate = 0.3 }, Ct);
        await using var factory = new SelfTaughtWebFactory()
            .With("Inference:Endpoints:0:Name", "sim")
            .With("Inference:Endpoints:0:Kind", "OpenAICompatible")
            .With("Inference:Endpoints:0:BaseUrl", sim.OpenAIBaseUri.ToString())
            .With("Inference:Endpoints:0:DefaultModel", "sim-generator");
        using var client = factory.CreateClient();
        var (experimentId, _) = await SeedAsync(factory, instructions: 12);
        var body = new { method = "WorseResponse", maxAttempts = 1, heldOutShare = 0.25 };

        using var estimateResponse = await client.PostAsJsonAsync($"/api/experiments/{experimentId}/stages/generate-pairs/estimate", body, Ct);
        var estimate = await estimateResponse.Content.ReadFromJsonAsync<JsonElement>(Ct);
        using var start = await client.PostAsJsonAsync($"/api/experiments/{experimentId}/stages/generate-pairs", body, Ct);
        var runId = (await start.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("stageRunId").GetInt64();
        var run = await WaitForAsync(client, runId);

        Assert.Equal(HttpStatusCode.OK, estimateResponse.StatusCode);
        Assert.Equal((24, 12, 24 * 2048), (estimate.GetProperty("calls").GetInt64(), estimate.GetProperty("items").GetInt64(), estimate.GetProperty("maxCompletionTokens").GetInt64()));
        Assert.True(estimate.GetProperty("promptTokens").GetInt64() > 12 * 2048);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        Assert.Equal($"/api/stage-runs/{runId}", start.Headers.Location?.OriginalString);
        Assert.Equal(("Completed", 12), (run.GetProperty("status").GetString(), run.GetProperty("done").GetInt32()));

        var all = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/pairs?pageSize=5", Ct);
        var failed = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/pairs?status=failed&method=WorseResponse", Ct);
        var ready = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/pairs?status=Ready", Ct);
        var held = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/pairs?heldOut=true", Ct);
        var summary = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/pairs/summary", Ct);
        await using var db = factory.Database.CreateContext();
        var stored = await db.Pairs.AsNoTracking().Where(p => p.ExperimentId == experimentId).ToListAsync(Ct);

        Assert.Equal(12, all.GetProperty("totalCount").GetInt32());
        Assert.Equal(5, all.GetProperty("items").GetArrayLength());
        Assert.Equal(stored.Count(p => p.Status == PairStatus.Failed), failed.GetProperty("totalCount").GetInt32());
        Assert.Equal(stored.Count(p => p.Status == PairStatus.Ready), ready.GetProperty("totalCount").GetInt32());
        Assert.Equal(stored.Count(p => p.HeldOut), held.GetProperty("totalCount").GetInt32());
        Assert.All(failed.GetProperty("items").EnumerateArray(), i => Assert.Equal("Failed", i.GetProperty("status").GetString()));
        Assert.Equal((12, stored.Count(p => p.HeldOut)), (summary.GetProperty("total").GetInt32(), summary.GetProperty("heldOut").GetInt32()));
        Assert.Equal("WorseResponse", summary.GetProperty("methods")[0].GetProperty("method").GetString());
        Assert.Equal(runId, summary.GetProperty("latestRun").GetProperty("id").GetInt64());

        var readyPair = stored.First(p => p.Status == PairStatus.Ready);
        var detail = await client.GetFromJsonAsync<JsonElement>($"/api/pairs/{readyPair.Id}", Ct);
        Assert.Equal((readyPair.Prompt, readyPair.Chosen, readyPair.Rejected, readyPair.RawOutput),
            (detail.GetProperty("prompt").GetString(), detail.GetProperty("chosen").GetString(), detail.GetProperty("rejected").GetString(), detail.GetProperty("rawOutput").GetString()));
        Assert.Equal(("WorseResponse", "Ready", "worse-response-rewrite", "response-generation"), (detail.GetProperty("method").GetString(), detail.GetProperty("status").GetString(),
            detail.GetProperty("template").GetProperty("key").GetString(), detail.GetProperty("responseTemplate").GetProperty("key").GetString()));
        Assert.Equal(readyPair.HeldOut, detail.GetProperty("heldOut").GetBoolean());
        Assert.Equal(JsonValueKind.Array, detail.GetProperty("details").GetProperty("rejectedSeeds").ValueKind);
        if (stored.FirstOrDefault(p => p.Status == PairStatus.Failed) is { } failedPair)
        {
            var failedDetail = await client.GetFromJsonAsync<JsonElement>($"/api/pairs/{failedPair.Id}", Ct);
            Assert.StartsWith("Missing markers", failedDetail.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.Equal(failedPair.RawOutput, failedDetail.GetProperty("rawOutput").GetString());
        }
    }

    [Fact]
    public async Task GeneratePairs_AnswersProblemDetails_404ForAnUnknownExperiment_400ForWhatCannotWork_409ForTheExperimentsState()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var (experimentId, _) = await SeedAsync(factory, instructions: 3, select: false);
        var url = $"/api/experiments/{experimentId}/stages/generate-pairs";

        using var unknown = await client.PostAsJsonAsync("/api/experiments/999/stages/generate-pairs", new { }, Ct);
        using var unknownEstimate = await client.PostAsJsonAsync("/api/experiments/999/stages/generate-pairs/estimate", new { }, Ct);
        using var noSelection = await client.PostAsJsonAsync(url, new { }, Ct);
        await SelectAsync(factory, experimentId);
        using var badSettings = await client.PostAsJsonAsync(url, new { maxAttempts = 0, heldOutShare = 1.5, mix = new[] { new { datasetId = 0, kind = "HhRlhf", count = 3 } } }, Ct);
        using var badMethod = await client.PostAsJsonAsync(url, new { method = "Telepathy" }, Ct);
        using var notJson = await client.PostAsync(url, new StringContent("{ not json", Encoding.UTF8, "application/json"), Ct);
        using var notAnObject = await client.PostAsync(url, new StringContent("[1, 2]", Encoding.UTF8, "application/json"), Ct);
        using var wrongDataset = await client.PostAsJsonAsync(url, new { mix = new[] { new { datasetId = 424242, kind = "HelpSteer2", count = 3 } } }, Ct);

        await AssertProblemAsync(unknown, HttpStatusCode.NotFound, $"Experiment 999 does not exist.");
        await AssertProblemAsync(unknownEstimate, HttpStatusCode.NotFound, $"Experiment 999 does not exist.");
        await AssertProblemAsync(noSelection, HttpStatusCode.BadRequest, "has no selected instructions yet; run the select stage first");
        await AssertProblemAsync(badSettings, HttpStatusCode.BadRequest, "maxAttempts must be 1–10, not 0.");
        await AssertProblemAsync(badSettings, HttpStatusCode.BadRequest, "heldOutShare must be at least 0 and below 1, not 1.5.");
        await AssertProblemAsync(badSettings, HttpStatusCode.BadRequest, "mix[0].datasetId must name an imported dataset, not 0.");
        await AssertProblemAsync(badMethod, HttpStatusCode.BadRequest, "The body is not a valid generate-pairs request");
        await AssertProblemAsync(notJson, HttpStatusCode.BadRequest, "The body is not a valid generate-pairs request");
        await AssertProblemAsync(notAnObject, HttpStatusCode.BadRequest, "expected a JSON object");
        await AssertProblemAsync(wrongDataset, HttpStatusCode.BadRequest, "mix[0].datasetId: Dataset 424242 does not exist");

        // An unfinished run over the experiment, then pairs already made, then pairs judged: each is a conflict.
        await using (var db = factory.Database.CreateContext())
        {
            db.StageRuns.Add(new StageRun { Kind = StageKind.GeneratePairs, ExperimentId = experimentId, Status = StageStatus.Running, CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync(Ct);
        }
        using var running = await client.PostAsJsonAsync(url, new { }, Ct);
        long pairId;
        await using (var db = factory.Database.CreateContext())
        {
            await db.StageRuns.Where(r => r.ExperimentId == experimentId).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, StageStatus.Completed), Ct);
            var pair = new Pair { ExperimentId = experimentId, Method = PairMethod.ModifiedInstruction, Prompt = "x", Chosen = "yw", Rejected = "yl", Status = PairStatus.Ready, CreatedAt = DateTime.UtcNow };
            db.Pairs.Add(pair);
            await db.SaveChangesAsync(Ct);
            pairId = pair.Id;
        }
        using var existing = await client.PostAsJsonAsync(url, new { }, Ct);
        await using (var db = factory.Database.CreateContext())
        {
            var iteration = await db.Iterations.SingleAsync(i => i.ExperimentId == experimentId, Ct);
            db.Annotations.Add(new Annotation { IterationId = iteration.Id, PairId = pairId, JudgePrompt = "p", CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync(Ct);
        }
        using var judged = await client.PostAsJsonAsync(url, new { replace = true }, Ct);

        await AssertProblemAsync(running, HttpStatusCode.Conflict, "is already generating pairs");
        await AssertProblemAsync(existing, HttpStatusCode.Conflict, "already has 1 pairs; choose replace");
        await AssertProblemAsync(judged, HttpStatusCode.Conflict, "have been judged by an iteration");
        await using var check = factory.Database.CreateContext();
        Assert.Equal(1, await check.Pairs.CountAsync(Ct));
        Assert.Equal(1, await check.StageRuns.CountAsync(r => r.Kind == StageKind.GeneratePairs, Ct));
    }

    [Fact]
    public async Task PairRoutes_Answer404ForUnknownIds_And400ForBadFilters()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var (experimentId, _) = await SeedAsync(factory, instructions: 1);

        using var unknownPair = await client.GetAsync("/api/pairs/12345", Ct);
        using var unknownExperiment = await client.GetAsync("/api/experiments/999/pairs", Ct);
        using var unknownSummary = await client.GetAsync("/api/experiments/999/pairs/summary", Ct);
        using var badStatus = await client.GetAsync($"/api/experiments/{experimentId}/pairs?status=Bogus&method=7&heldOut=maybe&page=0", Ct);
        var empty = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{experimentId}/pairs", Ct);

        await AssertProblemAsync(unknownPair, HttpStatusCode.NotFound, "Pair 12345 does not exist.");
        await AssertProblemAsync(unknownExperiment, HttpStatusCode.NotFound, "Experiment 999 does not exist.");
        await AssertProblemAsync(unknownSummary, HttpStatusCode.NotFound, "Experiment 999 does not exist.");
        var problem = await badStatus.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badStatus.StatusCode);
        Assert.Contains("status must be one of Pending, Ready, Failed, not 'Bogus'.", problem.GetProperty("errors").GetProperty("status")[0].GetString());
        Assert.Contains("method must be one of ModifiedInstruction", problem.GetProperty("errors").GetProperty("method")[0].GetString());
        Assert.Contains("heldOut must be true or false", problem.GetProperty("errors").GetProperty("heldOut")[0].GetString());
        Assert.True(problem.GetProperty("errors").TryGetProperty("page", out _));
        Assert.Equal(0, empty.GetProperty("totalCount").GetInt32());
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string message)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(status == response.StatusCode, $"Expected {status}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(message, text, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> WaitForAsync(HttpClient client, long runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>($"/api/stage-runs/{runId}", Ct);
            if (run.GetProperty("status").GetString() is "Completed" or "Failed" || DateTime.UtcNow > deadline) return run;
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>A pool of <paramref name="instructions"/> prompts and an experiment over it (generator sim-generator), selected unless told otherwise.</summary>
    private static async Task<(long ExperimentId, long PoolId)> SeedAsync(SelfTaughtWebFactory factory, int instructions, bool select = true)
    {
        _ = factory.Server; // start the app: it creates the database
        long poolId;
        await using (var db = factory.Database.CreateContext())
        {
            var pool = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = instructions, CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(pool);
            await db.SaveChangesAsync(Ct);
            poolId = pool.Id;
            await db.InsertOrIgnoreAsync(Enumerable.Range(0, instructions).Select(i => new Instruction { DatasetId = pool.Id, RowIndex = i, Text = $"Explain topic {i} to a student." }).ToList(), Ct);
        }
        using var client = factory.CreateClient();
        using var created = await client.PostAsJsonAsync("/api/experiments",
            new { name = "pairs", datasetId = poolId, seedModel = new { model = "sim-judge" }, generatorModel = new { model = "sim-generator" }, seed = 9 }, Ct);
        var experimentId = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetInt64();
        if (select) await SelectAsync(factory, experimentId);
        return (experimentId, poolId);
    }

    private static async Task SelectAsync(SelfTaughtWebFactory factory, long experimentId)
    {
        await using var db = factory.Database.CreateContext();
        var experiment = await db.Experiments.SingleAsync(e => e.Id == experimentId, Ct);
        var ids = await db.Instructions.Where(i => i.DatasetId == experiment.InstructionDatasetId).Select(i => i.Id).ToListAsync(Ct);
        await db.InsertOrIgnoreAsync(ids.Select(id => new ExperimentInstruction { ExperimentId = experimentId, InstructionId = id }).ToList(), Ct);
    }
}
