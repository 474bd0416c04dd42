using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SelfTaught.SimBackend;

namespace SelfTaught.Web.Tests.Http;

/// <summary><c>/api/backends</c> on the real app, with its endpoints pointing at SimBackend on loopback.</summary>
[Collection(WebAppCollection.Name)]
public sealed class BackendsApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task List_ShowsStateLatencyAndModelsWithDigests_AfterACheck()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var factory = Configured(sim);
        using var client = factory.CreateClient();

        using var checkedNow = await client.PostAsync("/api/backends/sim/check", null, Ct);
        var list = await client.GetFromJsonAsync<JsonElement>("/api/backends", Ct);

        Assert.Equal(HttpStatusCode.OK, checkedNow.StatusCode);
        var sim0 = list.EnumerateArray().Single(e => e.GetProperty("name").GetString() == "sim");
        Assert.Equal("Healthy", sim0.GetProperty("state").GetString());
        Assert.Equal("Ollama", sim0.GetProperty("kind").GetString());
        Assert.Equal("configuration", sim0.GetProperty("origin").GetString());
        Assert.True(sim0.GetProperty("latencyMs").GetInt32() >= 0);
        var model = sim0.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "sim-judge:latest");
        Assert.Equal(SimModels.Digest("sim-judge"), model.GetProperty("digest").GetString());
    }

    [Fact]
    public async Task Test_RunsATinyChat_WithTheKeyFromItsReference_NeverShowingTheKey()
    {
        const string secret = "sk-test-4f1c9a2b7e";
        await using var sim = await SimServer.StartAsync(new SimOptions { RequiredApiKey = secret }, Ct);
        await using var factory = Configured(sim, kind: "OpenAICompatible", baseUrl: sim.OpenAIBaseUri.ToString())
            .With("Inference:Endpoints:0:ApiKeyReference", "Secrets:Sim")
            .With("Secrets:Sim", secret);
        using var client = factory.CreateClient();

        using var test = await client.PostAsync("/api/backends/sim/test", null, Ct);
        var result = await test.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var listing = await client.GetStringAsync("/api/backends", Ct);

        Assert.True(result.GetProperty("ok").GetBoolean(), result.ToString());
        Assert.Contains("simulated", result.GetProperty("text").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal($"Bearer {secret}", sim.Stats.ChatRequests.Last().Authorization);
        Assert.DoesNotContain(secret, listing);
        Assert.Contains("(from Secrets:Sim)", listing);
    }

    [Fact]
    public async Task Test_ReportsTheProblem_WhenTheServerIsDown()
    {
        int port;
        await using (var gone = await SimServer.StartAsync(new SimOptions(), Ct)) port = gone.Port;
        await using var factory = new SelfTaughtWebFactory()
            .With("Inference:Endpoints:0:Name", "offline")
            .With("Inference:Endpoints:0:BaseUrl", $"http://127.0.0.1:{port}")
            .With("Inference:Endpoints:0:DefaultModel", "sim-judge")
            .With("Inference:Retry:MaxRetries", "0");
        using var client = factory.CreateClient();

        var result = await (await client.PostAsync("/api/backends/offline/test", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        using var unknown = await client.PostAsync("/api/backends/nope/test", null, Ct);

        Assert.False(result.GetProperty("ok").GetBoolean());
        Assert.Contains("'offline'", result.GetProperty("error").GetString());
        Assert.Contains("cannot connect", result.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task StoredEndpoints_AreCreatedValidatedUpdatedAndDeleted_ButConfiguredOnesAreReadOnly()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var factory = Configured(sim);
        using var client = factory.CreateClient();

        using var created = await client.PostAsJsonAsync("/api/backends", new
        {
            name = "vllm", kind = "OpenAICompatible", baseUrl = sim.OpenAIBaseUri.ToString(), defaultModel = "sim-judge", maxConcurrentRequests = 16,
        }, Ct);
        using var bad = await client.PostAsJsonAsync("/api/backends", new { name = "bad name", kind = "Ollama", baseUrl = "localhost:11434" }, Ct);
        using var clash = await client.PostAsJsonAsync("/api/backends", new { name = "sim", kind = "Ollama", baseUrl = "http://127.0.0.1:1" }, Ct);
        using var updated = await client.PutAsJsonAsync("/api/backends/vllm", new
        {
            name = "vllm", kind = "OpenAICompatible", baseUrl = sim.OpenAIBaseUri.ToString(), defaultModel = "sim-generator", maxConcurrentRequests = 8,
        }, Ct);
        var chat = await (await client.PostAsync("/api/backends/vllm/test", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        using var deleteConfigured = await client.DeleteAsync("/api/backends/sim", Ct);
        using var deleted = await client.DeleteAsync("/api/backends/vllm", Ct);
        var names = (await client.GetFromJsonAsync<JsonElement>("/api/backends", Ct)).EnumerateArray().Select(e => e.GetProperty("name").GetString());

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problems = await bad.Content.ReadAsStringAsync(Ct);
        Assert.Contains("Name", problems);
        Assert.Contains("BaseUrl", problems);
        Assert.Equal(HttpStatusCode.BadRequest, clash.StatusCode);
        Assert.Contains("defined in configuration", await clash.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(8, (await updated.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("maxConcurrentRequests").GetInt32());
        Assert.True(chat.GetProperty("ok").GetBoolean(), chat.ToString());
        Assert.Equal("sim-generator", chat.GetProperty("model").GetString());
        Assert.Equal(HttpStatusCode.Conflict, deleteConfigured.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(["sim"], names);
    }

    [Fact]
    public async Task StoredEndpoints_SurviveARestart()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var first = Configured(sim);
        using (var client = first.CreateClient())
        {
            using var created = await client.PostAsJsonAsync("/api/backends", new { name = "kept", kind = "Ollama", baseUrl = sim.BaseUri }, Ct);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // A second app over the same database file.
        await using var second = new SelfTaughtWebFactory().With("ConnectionStrings:SelfTaught", first.Database.ConnectionString);
        using var again = second.CreateClient();
        var names = (await again.GetFromJsonAsync<JsonElement>("/api/backends", Ct)).EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();

        Assert.Contains("kept", names);
    }

    private static SelfTaughtWebFactory Configured(SimServer sim, string kind = "Ollama", string? baseUrl = null) =>
        new SelfTaughtWebFactory()
            .With("Inference:Endpoints:0:Name", "sim")
            .With("Inference:Endpoints:0:Kind", kind)
            .With("Inference:Endpoints:0:BaseUrl", baseUrl ?? sim.BaseUri)
            .With("Inference:Endpoints:0:DefaultModel", "sim-judge");
}
