using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Web.Tests.Http;

/// <summary><c>POST /api/experiments</c>, <c>GET /api/experiments</c> and <c>GET /api/experiments/{id}</c> on the real app.</summary>
[Collection(WebAppCollection.Name)]
public sealed class ExperimentsApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Create_WithOnlyASeedModel_DefaultsGeneratorAndJudgeToIt_AndCreatesIterationOne()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var pool = await SeedDatasetAsync(factory, DatasetRole.InstructionPool, DatasetStatus.Ready);

        using var response = await client.PostAsJsonAsync("/api/experiments",
            new { name = "reasoning v1", datasetId = pool, seedModel = new { model = "llama3.1:70b" }, seed = 1234 }, Ct);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = created.GetProperty("id").GetInt64();
        Assert.Equal($"/api/experiments/{id}", response.Headers.Location?.OriginalString);
        var fetched = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{id}", Ct);
        Assert.Equal("reasoning v1", fetched.GetProperty("name").GetString());
        Assert.Equal("llama3.1:70b", fetched.GetProperty("generatorModel").GetProperty("model").GetString());
        Assert.Equal("llama3.1:70b", fetched.GetProperty("judgeModel").GetProperty("model").GetString());
        Assert.Equal(1234, fetched.GetProperty("seed").GetInt64());
        Assert.Equal(15, fetched.GetProperty("settings").GetProperty("judging").GetProperty("samples").GetInt32());
        Assert.Equal(0.7, fetched.GetProperty("settings").GetProperty("judging").GetProperty("temperature").GetDouble());
        Assert.Equal("ModifiedInstruction", fetched.GetProperty("settings").GetProperty("generation").GetProperty("method").GetString());
        var iteration = Assert.Single(fetched.GetProperty("iterations").EnumerateArray());
        Assert.Equal(1, iteration.GetProperty("number").GetInt32());
        Assert.Equal("Created", iteration.GetProperty("status").GetString());
        Assert.Equal("llama3.1:70b", iteration.GetProperty("judgeModel").GetProperty("model").GetString());
        Assert.Equal(15, iteration.GetProperty("samplesPerPair").GetInt32());
        var list = await client.GetFromJsonAsync<JsonElement>("/api/experiments", Ct);
        Assert.Equal(1, list.GetProperty("totalCount").GetInt32());
        Assert.Equal(id, list.GetProperty("items")[0].GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Create_KeepsSeparateGeneratorAndJudge_AndSettings()
    {
        await using var factory = new SelfTaughtWebFactory()
            .With("Inference:Endpoints:0:Name", "vllm-a")
            .With("Inference:Endpoints:0:Kind", "OpenAICompatible")
            .With("Inference:Endpoints:0:BaseUrl", "http://127.0.0.1:9/v1");
        using var client = factory.CreateClient();
        var pool = await SeedDatasetAsync(factory, DatasetRole.InstructionPool, DatasetStatus.Ready);

        using var response = await client.PostAsJsonAsync("/api/experiments", new
        {
            name = "paper setup", datasetId = pool, seedModel = new { model = "llama-3-70b" },
            generatorModel = new { model = "mixtral-8x22b", endpoint = "vllm-a" }, judgeModel = new { model = "mixtral-8x22b", endpoint = "VLLM-A" },
            settings = new { judging = new { samples = 5, earlyStop = true }, generation = new { method = "WorseResponse", heldOutShare = 0.1 } },
        }, Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        await using var db = factory.Database.CreateContext();
        var experiment = await db.Experiments.Include(e => e.Iterations).SingleAsync(Ct);
        Assert.Equal(("llama-3-70b", null), (experiment.SeedModel, experiment.SeedEndpoint));
        Assert.Equal(("mixtral-8x22b", "vllm-a"), (experiment.GeneratorModel, experiment.GeneratorEndpoint));
        Assert.Equal(("mixtral-8x22b", "VLLM-A"), (experiment.JudgeModel, experiment.JudgeEndpoint));
        var iteration = Assert.Single(experiment.Iterations);
        Assert.Equal((5, true), (iteration.SamplesPerPair, iteration.EarlyStop));
        Assert.Contains("\"method\":\"WorseResponse\"", experiment.SettingsJson);
        Assert.Contains("\"heldOutShare\":0.1", experiment.SettingsJson);
        Assert.InRange(experiment.Seed, 0, int.MaxValue);
    }

    [Fact]
    public async Task Create_RejectsBadRequests_NamingEachProblem_AndStoresNothing()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var pairs = await SeedDatasetAsync(factory, DatasetRole.LabeledPairs, DatasetStatus.Ready);
        var importing = await SeedDatasetAsync(factory, DatasetRole.InstructionPool, DatasetStatus.Importing);

        var noModel = await ProblemsAsync(client, new { name = "a", datasetId = importing });
        var wrongRole = await ProblemsAsync(client, new { name = " ", datasetId = pairs, seedModel = new { model = "m" }, judgeModel = new { model = "j", endpoint = "nowhere" } });
        var badSettings = await ProblemsAsync(client, new { name = "b", datasetId = 999, seedModel = new { model = "m" }, settings = new { judging = new { samples = 0, topP = 1.5 } } });

        Assert.Contains("seedModel.model is required", noModel["seedModel"]);
        Assert.Contains("import has not finished", noModel["datasetId"]);
        Assert.Contains("needs an instruction pool", wrongRole["datasetId"]);
        Assert.Contains("Give the experiment a name", wrongRole["name"]);
        Assert.Contains("'nowhere' is not a configured endpoint", wrongRole["judgeModel"]);
        Assert.Contains("settings.judging.samples must be 1–256", badSettings["settings"]);
        Assert.Contains("settings.judging.topP", badSettings["settings"]);
        Assert.Contains("Dataset 999 does not exist", badSettings["datasetId"]);

        var nullSection = await ProblemsAsync(client, new { name = "d", datasetId = pairs, seedModel = new { model = "m" }, settings = new { generation = (object?)null } });
        Assert.Contains("must be objects (omit one for its defaults), not null", nullSection["settings"]);
        using var notJson = await client.PostAsync("/api/experiments", new StringContent("{ name: ", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.Contains("not a valid experiment", await notJson.Content.ReadAsStringAsync(Ct));
        using var badEnum = await client.PostAsJsonAsync("/api/experiments",
            new { name = "c", datasetId = 1, seedModel = new { model = "m" }, settings = new { generation = new { method = "Telepathy" } } }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badEnum.StatusCode);
        await using var db = factory.Database.CreateContext();
        Assert.Equal(0, await db.Experiments.CountAsync(Ct));
    }

    [Fact]
    public async Task Create_RefusesADuplicateName_AndGetOfAnUnknownExperimentIs404()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var pool = await SeedDatasetAsync(factory, DatasetRole.InstructionPool, DatasetStatus.Ready);
        var body = new { name = "twice", datasetId = pool, seedModel = new { model = "m" } };
        using var first = await client.PostAsJsonAsync("/api/experiments", body, Ct);

        var second = await ProblemsAsync(client, body);
        using var missing = await client.GetAsync("/api/experiments/4242", Ct);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Contains("already exists", second["name"]);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("Experiment 4242 does not exist", await missing.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task SelectStage_StartsPreviewsAndRefuses_WithTheRightStatus()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var pool = await SeedDatasetAsync(factory, DatasetRole.InstructionPool, DatasetStatus.Ready);
        await using (var db = factory.Database.CreateContext())
        {
            db.Instructions.AddRange(Enumerable.Range(0, 12).Select(i => new Instruction { DatasetId = pool, RowIndex = i, Text = $"Prompt {i}" }));
            await db.SaveChangesAsync(Ct);
        }
        using var created = await client.PostAsJsonAsync("/api/experiments", new { name = "s", datasetId = pool, seedModel = new { model = "m" } }, Ct);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetInt64();

        var preview = await (await client.PostAsJsonAsync($"/api/experiments/{id}/stages/select/preview", new { maxCount = 5 }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        using var start = await client.PostAsJsonAsync($"/api/experiments/{id}/stages/select", new { maxCount = 5 }, Ct);
        var runId = (await start.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("stageRunId").GetInt64();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement run;
        do
        {
            await Task.Delay(50, Ct);
            run = await client.GetFromJsonAsync<JsonElement>($"/api/stage-runs/{runId}", Ct);
        }
        while (run.GetProperty("status").GetString() != "Completed" && DateTime.UtcNow < deadline);
        using var again = await client.PostAsJsonAsync($"/api/experiments/{id}/stages/select", new { }, Ct);
        using var invalid = await client.PostAsJsonAsync($"/api/experiments/{id}/stages/select", new { lengthBuckets = new[] { "z" }, replace = true }, Ct);
        using var unknown = await client.PostAsJsonAsync("/api/experiments/999/stages/select", new { }, Ct);
        using var nullList = await client.PostAsJsonAsync($"/api/experiments/{id}/stages/select", new { categories = (string[]?)null, replace = true }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, nullList.StatusCode);
        Assert.Contains("must be lists (empty for any), not null", await nullList.Content.ReadAsStringAsync(Ct));
        var view = await client.GetFromJsonAsync<JsonElement>($"/api/experiments/{id}", Ct);

        Assert.Equal((12, 12, 5, 0), (preview.GetProperty("poolSize").GetInt32(), preview.GetProperty("matching").GetInt32(),
            preview.GetProperty("selected").GetInt32(), preview.GetProperty("modelCalls").GetInt32()));
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        Assert.Equal("Completed", run.GetProperty("status").GetString());
        Assert.Equal("Select", run.GetProperty("kind").GetString());
        Assert.Equal(5, view.GetProperty("selectedInstructions").GetInt32());
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("already has a selection of 5 instructions", await again.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("lengthBuckets holds 'z'", await invalid.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    private static async Task<Dictionary<string, string>> ProblemsAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/experiments", body, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return problem.GetProperty("errors").EnumerateObject()
            .ToDictionary(p => p.Name, p => string.Join(" | ", p.Value.EnumerateArray().Select(v => v.GetString())));
    }

    private static async Task<long> SeedDatasetAsync(SelfTaughtWebFactory factory, DatasetRole role, DatasetStatus status)
    {
        _ = factory.Server; // start the app: it creates the database
        await using var db = factory.Database.CreateContext();
        var dataset = new Dataset { Name = $"{role} {status}", Role = role, Status = status, RowCount = 3, CreatedAt = DateTime.UtcNow };
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(Ct);
        return dataset.Id;
    }
}
