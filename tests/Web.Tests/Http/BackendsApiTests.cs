using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SelfTaught.Inference;
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
            .With("Inference:Endpoints:0:ApiKeyReference", "Inference:ApiKeys:Sim")
            .With("Inference:ApiKeys:Sim", secret);
        using var client = factory.CreateClient();

        var checkedNow = await (await client.PostAsync("/api/backends/sim/check", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        using var test = await client.PostAsync("/api/backends/sim/test", null, Ct);
        var result = await test.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var listing = await client.GetStringAsync("/api/backends", Ct);

        // The health check and the n probe authenticate too, not just chats.
        Assert.Equal("Healthy", checkedNow.GetProperty("state").GetString());
        Assert.True(checkedNow.GetProperty("acceptsN").GetBoolean(), checkedNow.ToString());
        Assert.True(result.GetProperty("ok").GetBoolean(), result.ToString());
        Assert.Contains("simulated", result.GetProperty("text").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal($"Bearer {secret}", sim.Stats.ChatRequests.Last().Authorization);
        Assert.All(sim.Stats.Requests, r => Assert.Equal(200, r.StatusCode));
        Assert.DoesNotContain(secret, listing);
        Assert.Contains("(from Inference:ApiKeys:Sim)", listing);
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
        Assert.Contains("'sim' is defined in configuration (Inference:Endpoints); change it there.", await clash.Content.ReadAsStringAsync(Ct));
        Assert.Contains("'sim' is defined in configuration (Inference:Endpoints); change it there.", await deleteConfigured.Content.ReadAsStringAsync(Ct));
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

    [Fact]
    public async Task BuiltInDefault_GivesWayToStoredEndpoints_EvenOneNamedLikeIt()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();

        var initially = await Listing(client);
        using var created = await client.PostAsJsonAsync("/api/backends", new { name = "ollama", kind = "Ollama", baseUrl = sim.BaseUri }, Ct);
        var withStored = await Listing(client);
        using var deleted = await client.DeleteAsync("/api/backends/ollama", Ct);
        var afterDelete = await Listing(client);

        Assert.Equal([("ollama", "built-in default", "http://localhost:11434")], initially);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal([("ollama", "database", sim.BaseUri)], withStored);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal([("ollama", "built-in default", "http://localhost:11434")], afterDelete);
    }

    [Fact]
    public async Task Create_RefusesKeyReferencesOutsideTheTwoFormsAndUrlsWithPasswords_WithoutEchoingThem()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();

        using var connectionString = await client.PostAsJsonAsync("/api/backends",
            new { name = "a", kind = "OpenAICompatible", baseUrl = "http://127.0.0.1:8000/v1", apiKeyReference = "ConnectionStrings:SelfTaught" }, Ct);
        using var cloudSecret = await client.PostAsJsonAsync("/api/backends",
            new { name = "b", kind = "OpenAICompatible", baseUrl = "http://127.0.0.1:8000/v1", apiKeyReference = "AWS_SECRET_ACCESS_KEY" }, Ct);
        using var password = await client.PostAsJsonAsync("/api/backends",
            new { name = "c", kind = "OpenAICompatible", baseUrl = "http://admin:hunter2@127.0.0.1:8000/v1" }, Ct);
        using var accepted = await client.PostAsJsonAsync("/api/backends",
            new { name = "d", kind = "OpenAICompatible", baseUrl = "http://127.0.0.1:8000/v1", apiKeyReference = "VLLM_API_KEY" }, Ct);

        foreach (var refused in new[] { connectionString, cloudSecret })
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var problem = await refused.Content.ReadAsStringAsync(Ct);
            Assert.Contains("endpoint:ApiKeyReference", problem);
            Assert.Contains("Inference:ApiKeys:<name>", problem);
        }
        Assert.Equal(HttpStatusCode.BadRequest, password.StatusCode);
        var passwordProblem = await password.Content.ReadAsStringAsync(Ct);
        Assert.Contains("endpoint:BaseUrl must not contain a user name or password", passwordProblem);
        Assert.DoesNotContain("hunter2", passwordProblem);
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
    }

    [Fact]
    public async Task AppSettings_ShowsTheInferenceDefaults_WithAnEmptyEndpointList()
    {
        await using var factory = new SelfTaughtWebFactory();
        var configuration = factory.Services.GetRequiredService<IConfiguration>();
        var options = factory.Services.GetRequiredService<IOptions<InferenceOptions>>().Value;
        var defaults = new InferenceOptions();

        // Written out in appsettings.json, and equal to the code's defaults: behaviour is the same with or without them.
        Assert.Equal($"{defaults.Retry.MaxRetries}", configuration["Inference:Retry:MaxRetries"]);
        Assert.Equal($"{defaults.Retry.BaseDelayMs}", configuration["Inference:Retry:BaseDelayMs"]);
        Assert.Equal($"{defaults.Retry.MaxDelayMs}", configuration["Inference:Retry:MaxDelayMs"]);
        Assert.Equal($"{defaults.Retry.MaxRetryAfterSeconds}", configuration["Inference:Retry:MaxRetryAfterSeconds"]);
        Assert.Equal($"{defaults.HealthCheckIntervalSeconds}", configuration["Inference:HealthCheckIntervalSeconds"]);
        Assert.Equal($"{defaults.HealthCheckTimeoutSeconds}", configuration["Inference:HealthCheckTimeoutSeconds"]);
        Assert.Equal($"{defaults.DefaultMaxTokens}", configuration["Inference:DefaultMaxTokens"]);
        Assert.Empty(options.Endpoints);
        var only = Assert.Single(factory.Services.GetRequiredService<EndpointRegistry>().Endpoints);
        Assert.Equal(("ollama", EndpointRegistry.DefaultOrigin), (only.Name, only.Origin));
    }

    private static async Task<List<(string?, string?, string?)>> Listing(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/backends", Ct)).EnumerateArray()
            .Select(e => (e.GetProperty("name").GetString(), e.GetProperty("origin").GetString(), e.GetProperty("baseUrl").GetString()))
            .ToList();

    private static SelfTaughtWebFactory Configured(SimServer sim, string kind = "Ollama", string? baseUrl = null) =>
        new SelfTaughtWebFactory()
            .With("Inference:Endpoints:0:Name", "sim")
            .With("Inference:Endpoints:0:Kind", kind)
            .With("Inference:Endpoints:0:BaseUrl", baseUrl ?? sim.BaseUri)
            .With("Inference:Endpoints:0:DefaultModel", "sim-judge");
}
