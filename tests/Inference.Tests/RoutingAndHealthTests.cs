using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.AI;
using SelfTaught.SimBackend;
using static SelfTaught.Inference.Tests.Sim;

namespace SelfTaught.Inference.Tests;

public class RoutingAndHealthTests
{
    private static readonly ChatMessage[] Hello = [new(ChatRole.User, "Say hello.")];

    [Fact]
    public async Task Requests_SpreadByLeastOutstanding_AcrossTwoEndpointsServingTheModel()
    {
        await using var fast = await StartAsync(o => o.LatencyMs = 10);
        await using var slow = await StartAsync(o => o.LatencyMs = 120);
        var (registry, checker) = Registry(null, OllamaEndpoint(fast, "fast", maxConcurrent: 8), OllamaEndpoint(slow, "slow", maxConcurrent: 8));
        await checker.CheckAllAsync(Ct);
        var (client, candidates) = registry.Resolve("sim-judge");

        // Four callers in a loop, as a stage's workers would be: each request goes where the fewest are outstanding.
        await Parallel.ForEachAsync(Enumerable.Range(0, 60), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = Ct },
            async (i, ct) => await client.GetResponseAsync(Hello, new ChatOptions { Seed = i }, ct));

        Assert.Equal(["fast", "slow"], candidates.Select(c => c.Name));
        var onFast = fast.Stats.Requests.Count(r => r.IsChat);
        var onSlow = slow.Stats.Requests.Count(r => r.IsChat);
        Assert.Equal(60, onFast + onSlow);
        // Both take work, and the endpoint that frees up sooner takes more of it.
        Assert.True(onSlow >= 2, $"slow endpoint got {onSlow}");
        Assert.True(onFast > onSlow, $"fast {onFast} vs slow {onSlow}");
    }

    [Fact]
    public async Task HealthCheck_ListsModelsWithDigests_AndMarksAFailingEndpointUnhealthyUntilItRecovers()
    {
        await using var sim = await StartAsync(o => o.OllamaVersion = "0.11.4");
        var (registry, checker) = Registry(null, OllamaEndpoint(sim, "box"));
        var endpoint = registry.Find("box")!;
        Assert.Equal(EndpointHealth.Unknown, endpoint.Health.State);

        var healthy = await checker.CheckAsync(endpoint, Ct);
        sim.FailNextRequests(1, SimFaultKind.Status500, SimFaultScope.AllRequests);
        var failing = await checker.CheckAsync(endpoint, Ct);
        var recovered = await checker.CheckAsync(endpoint, Ct);

        Assert.Equal(EndpointHealth.Healthy, healthy.State);
        Assert.Equal("0.11.4", healthy.Version);
        Assert.Contains(healthy.Models, m => m.Name == "sim-judge:latest" && m.Digest == SimModels.Digest("sim-judge"));
        Assert.NotNull(healthy.LatencyMs);
        Assert.Equal(EndpointHealth.Unhealthy, failing.State);
        Assert.Contains("HTTP 500", failing.Error);
        Assert.Equal(EndpointHealth.Healthy, recovered.State);
        Assert.Null(recovered.Error);
    }

    [Fact]
    public async Task Routing_SkipsAnUnhealthyEndpoint_WhileAnotherServesTheModel()
    {
        await using var up = await StartAsync();
        await using var down = await StartAsync();
        var (registry, checker) = Registry(null, OpenAIEndpoint(up, "up"), OpenAIEndpoint(down, "down"));
        await checker.CheckAllAsync(Ct);
        down.FailNextRequests(1, SimFaultKind.Status500, SimFaultScope.AllRequests);
        await checker.CheckAsync(registry.Find("down")!, Ct);
        var client = registry.Resolve("sim-judge").Client;

        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => client.GetResponseAsync(Hello, new ChatOptions { Seed = i }, Ct)));

        Assert.True(registry.Find("down")!.IsUnhealthy);
        // Chats other than the health check's one-time n = 2 probe.
        Assert.Equal(10, up.Stats.Requests.Count(r => r.IsChat && r.N != 2));
        Assert.Equal(0, down.Stats.Requests.Count(r => r.IsChat && r.N != 2));
    }

    [Theory]
    [InlineData(SimNMode.Supported, true)]
    [InlineData(SimNMode.Reject500, false)]
    public async Task HealthCheck_ProbesWhetherAnOpenAICompatibleServerAcceptsN(SimNMode mode, bool expected)
    {
        await using var sim = await StartAsync(o => o.NMode = mode);
        var (registry, checker) = Registry(null, OpenAIEndpoint(sim, "vllm"));

        await checker.CheckAllAsync(Ct);

        Assert.Equal(expected, registry.Find("vllm")!.AcceptsN);
        Assert.Contains(sim.Stats.Requests, r => r.IsChat && r.N == 2);
    }

    [Fact]
    public async Task TestChat_AnswersThroughTheStack_OrExplainsWhyNot()
    {
        await using var sim = await StartAsync();
        var (registry, checker) = Registry(FastRetry(maxRetries: 0), OllamaEndpoint(sim, "box"));

        var ok = await checker.TestChatAsync(registry.Find("box")!, null, Ct);
        var missing = await checker.TestChatAsync(registry.Find("box")!, "no-such-model", Ct);

        Assert.True(ok.Ok, ok.Error);
        Assert.Equal("sim-judge", ok.Model);
        Assert.Contains("simulated", ok.Text, StringComparison.OrdinalIgnoreCase);
        Assert.True(ok.CompletionTokens > 0);
        Assert.False(missing.Ok);
        Assert.Contains("box", missing.Error);
        Assert.Contains("no-such-model", missing.Error);
    }

    [Fact]
    public void Resolve_Fails_NamingModelAndEndpoints_WhenNoEndpointServesTheModel()
    {
        var (registry, _) = Registry(null,
            new EndpointOptions { Name = "a", BaseUrl = "http://127.0.0.1:1", DefaultModel = "llama3" },
            new EndpointOptions { Name = "b", BaseUrl = "http://127.0.0.1:2", DefaultModel = "qwen2" });

        var missingModel = Assert.Throws<InvalidOperationException>(() => registry.Resolve("mixtral"));
        var missingEndpoint = Assert.Throws<InvalidOperationException>(() => registry.Resolve("llama3", "c"));

        Assert.Contains("mixtral", missingModel.Message);
        Assert.Contains("a [llama3]", missingModel.Message);
        Assert.Contains("No endpoint named 'c'", missingEndpoint.Message);
    }

    [Fact]
    public async Task SetStoredEndpoints_AddsAndRemovesEndpoints_KeepingConfiguredOnes()
    {
        await using var sim = await StartAsync();
        var (registry, _) = Registry(null, OllamaEndpoint(sim, "configured"));
        var changes = 0;
        registry.Changed += () => changes++;

        registry.SetStoredEndpoints([OpenAIEndpoint(sim, "stored"), OllamaEndpoint(sim, "configured")]);
        var stored = registry.Find("stored");
        registry.SetStoredEndpoints([OpenAIEndpoint(sim, "stored")]);
        var storedAgain = registry.Find("stored");
        registry.SetStoredEndpoints([]);

        Assert.NotNull(stored);
        Assert.Same(stored, storedAgain);
        Assert.Equal(["configured"], registry.Endpoints.Select(e => e.Name));
        Assert.Equal("configuration", registry.Endpoints[0].Origin);
        Assert.Equal(3, changes);
    }

    [Theory]
    [InlineData(EndpointKind.Ollama)]
    [InlineData(EndpointKind.OpenAICompatible)]
    public async Task Errors_NameTheEndpointAndTheProblem_ForBadUrlUnknownModelAndInvalidJson(EndpointKind kind)
    {
        await using var sim = await StartAsync();
        var good = kind == EndpointKind.Ollama ? OllamaEndpoint(sim, "real") : OpenAIEndpoint(sim, "real");
        var nothingThere = new EndpointOptions
        {
            Name = "nowhere", Kind = kind, BaseUrl = $"http://127.0.0.1:{ClosedPort()}{(kind == EndpointKind.OpenAICompatible ? "/v1" : "")}",
            DefaultModel = "sim-judge",
        };
        var (registry, _) = Registry(FastRetry(maxRetries: 1), good, nothingThere);

        var refused = await Assert.ThrowsAsync<InferenceException>(() => registry.Resolve("sim-judge", "nowhere").Client.GetResponseAsync(Hello, cancellationToken: Ct));
        var unknown = await Assert.ThrowsAsync<InferenceException>(() => registry.Resolve("no-such-model", "real").Client.GetResponseAsync(Hello, cancellationToken: Ct));
        sim.FailNextRequests(1, SimFaultKind.InvalidJson);
        var garbage = await Assert.ThrowsAsync<InferenceException>(() => registry.Resolve("sim-judge", "real").Client.GetResponseAsync(Hello, cancellationToken: Ct));

        Assert.Contains("'nowhere'", refused.Message);
        Assert.Contains("cannot connect", refused.Message);
        Assert.True(refused.Transient);
        Assert.Contains("'real'", unknown.Message);
        Assert.Contains("no-such-model", unknown.Message);
        Assert.Contains("HTTP 404", unknown.Message);
        Assert.False(unknown.Transient);
        Assert.Contains("'real'", garbage.Message);
        Assert.Contains("not valid JSON", garbage.Message);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
