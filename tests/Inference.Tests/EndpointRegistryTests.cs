using Microsoft.Extensions.AI;
using SelfTaught.SimBackend;
using static SelfTaught.Inference.Tests.Sim;

namespace SelfTaught.Inference.Tests;

/// <summary>Stored endpoints edited while requests run, and the built-in default endpoint.</summary>
public class EndpointRegistryTests
{
    private static readonly ChatMessage[] Hello = [new(ChatRole.User, "Say hello.")];

    [Fact]
    public async Task SetStoredEndpoints_KeepsTheLimit_WhileRequestsAreInFlight_AndResizesIt()
    {
        await using var sim = await StartAsync();
        var (registry, _) = Registry(new InferenceOptions { Retry = FastRetry() });
        EndpointOptions Box(int limit, int numCtx)
        {
            var box = OllamaEndpoint(sim, "box", maxConcurrent: limit);
            box.NumCtx = numCtx;
            return box;
        }
        registry.SetStoredEndpoints([Box(2, 2048)]);
        var state = registry.Find("box")!;
        var client = registry.Resolve("sim-judge", "box").Client;
        sim.HoldChatRequests();

        var before = Enumerable.Range(0, 6).Select(i => client.GetResponseAsync(Hello, new ChatOptions { Seed = i }, Ct)).ToList();
        await sim.Stats.WaitForInFlightChatRequestsAsync(2, TimeSpan.FromSeconds(20), Ct);
        registry.SetStoredEndpoints([Box(2, 8192)]);
        // The same client (as a running stage holds it) and a newly resolved one both use the edited settings.
        var after = new[] { client, registry.Resolve("sim-judge", "box").Client }
            .Select((c, i) => c.GetResponseAsync(Hello, new ChatOptions { Seed = 100 + i }, Ct)).ToList();
        await ResilienceTests.WaitUntil(() => state.Limiter.Waiting == 6);
        var maxWithLimit2 = sim.Stats.MaxConcurrentChatRequests;

        registry.SetStoredEndpoints([Box(3, 8192)]);
        await sim.Stats.WaitForInFlightChatRequestsAsync(3, TimeSpan.FromSeconds(20), Ct);
        sim.ReleaseChatRequests();
        await Task.WhenAll(before.Concat(after));

        Assert.Same(state, registry.Find("box"));
        Assert.Equal(2, maxWithLimit2);
        Assert.Equal(3, sim.Stats.MaxConcurrentChatRequests);
        Assert.Equal(3, state.Limiter.Limit);
        Assert.Equal(0, state.Outstanding);
        Assert.Equal(8, state.Usage.Requests);
        var chats = sim.Stats.Requests.Where(r => r.IsChat).ToList();
        Assert.Equal(6, chats.Count(r => r.NumCtx == 2048));
        Assert.Equal(2, chats.Count(r => r.NumCtx == 8192));
    }

    [Fact]
    public async Task SetStoredEndpoints_MakesANewState_WhenTheUrlChanges_AndLetsTheOldRequestFinish()
    {
        await using var first = await StartAsync();
        await using var second = await StartAsync();
        var (registry, _) = Registry(new InferenceOptions { Retry = FastRetry() });
        registry.SetStoredEndpoints([OllamaEndpoint(first, "box")]);
        var old = registry.Find("box")!;
        var client = registry.Resolve("sim-judge", "box").Client;
        first.HoldChatRequests();
        var inFlight = client.GetResponseAsync(Hello, cancellationToken: Ct);
        await first.Stats.WaitForInFlightChatRequestsAsync(1, TimeSpan.FromSeconds(20), Ct);

        registry.SetStoredEndpoints([OllamaEndpoint(second, "box")]);
        var moved = await client.GetResponseAsync(Hello, cancellationToken: Ct);
        var retiredWhileBusy = old.IsRetired && old.TryAcquireLease();
        if (retiredWhileBusy) old.ReleaseLease();
        first.ReleaseChatRequests();
        var finished = await inFlight;

        Assert.NotSame(old, registry.Find("box"));
        Assert.True(retiredWhileBusy, "the old HTTP client must stay usable while its request runs");
        Assert.Contains("simulated", finished.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("simulated", moved.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, second.Stats.Requests.Count(r => r.IsChat));
        Assert.Equal(0, old.Outstanding);
        // Its last request ended: the old HTTP client is disposed and the state refuses new work.
        Assert.False(old.TryAcquireLease());
        var refused = await Assert.ThrowsAsync<InferenceException>(() => registry.ClientFor(old, "sim-judge").GetResponseAsync(Hello, cancellationToken: Ct));
        Assert.Contains("changed or removed", refused.Message);
    }

    [Fact]
    public async Task BuiltInDefault_AppliesOnlyWithoutConfiguredAndStoredEndpoints()
    {
        await using var sim = await StartAsync();
        var (registry, _) = Registry(new InferenceOptions { Retry = FastRetry() });

        var initially = registry.Endpoints.ToList();
        registry.SetStoredEndpoints([OllamaEndpoint(sim, "ollama")]);
        var withStored = registry.Endpoints.ToList();
        registry.SetStoredEndpoints([]);
        var afterDelete = registry.Endpoints.ToList();

        var builtIn = Assert.Single(initially);
        Assert.Equal(("ollama", EndpointRegistry.DefaultOrigin, "http://localhost:11434"), (builtIn.Name, builtIn.Origin, builtIn.Options.BaseUrl));
        Assert.False(registry.IsConfigured("ollama"));
        // A stored endpoint may take the default's name; the default disappears as soon as anything is stored.
        var stored = Assert.Single(withStored);
        Assert.Equal(("ollama", EndpointRegistry.DatabaseOrigin, sim.BaseUri), (stored.Name, stored.Origin, stored.Options.BaseUrl));
        Assert.True(builtIn.IsRetired);
        Assert.Equal(EndpointRegistry.DefaultOrigin, Assert.Single(afterDelete).Origin);
    }

    [Fact]
    public async Task BuiltInDefault_NeverApplies_WhenEndpointsAreConfigured()
    {
        await using var sim = await StartAsync();
        var (registry, _) = Registry(FastRetry(), OllamaEndpoint(sim, "configured"));

        registry.SetStoredEndpoints([]);

        var only = Assert.Single(registry.Endpoints);
        Assert.Equal(("configured", EndpointRegistry.ConfigurationOrigin), (only.Name, only.Origin));
        Assert.True(registry.IsConfigured("CONFIGURED"));
        Assert.False(registry.IsConfigured("ollama"));
    }

    [Fact]
    public async Task Routing_WeighsOutstandingRequestsByEachEndpointsLimit()
    {
        await using var small = await StartAsync();
        await using var large = await StartAsync();
        var (registry, checker) = Registry(FastRetry(), OllamaEndpoint(small, "small", maxConcurrent: 1), OllamaEndpoint(large, "large", maxConcurrent: 3));
        await checker.CheckAllAsync(Ct);
        small.HoldChatRequests();
        large.HoldChatRequests();
        var client = registry.Resolve("sim-judge").Client;

        // Each request is routed (and counted outstanding) before the call returns its task.
        var calls = Enumerable.Range(0, 4).Select(i => client.GetResponseAsync(Hello, new ChatOptions { Seed = i }, Ct)).ToList();
        var placed = (registry.Find("small")!.Outstanding, registry.Find("large")!.Outstanding);
        small.ReleaseChatRequests();
        large.ReleaseChatRequests();
        await Task.WhenAll(calls);

        Assert.Equal((1L, 3L), placed);
    }

    [Fact]
    public async Task Routing_TakesTurns_BetweenEquallyLoadedEndpoints()
    {
        await using var a = await StartAsync();
        await using var b = await StartAsync();
        var (registry, checker) = Registry(FastRetry(), OllamaEndpoint(a, "a"), OllamaEndpoint(b, "b"));
        await checker.CheckAllAsync(Ct);
        var client = registry.Resolve("sim-judge").Client;

        for (var i = 0; i < 10; i++) await client.GetResponseAsync(Hello, new ChatOptions { Seed = i }, Ct);

        Assert.Equal(5, a.Stats.Requests.Count(r => r.IsChat));
        Assert.Equal(5, b.Stats.Requests.Count(r => r.IsChat));
    }
}
