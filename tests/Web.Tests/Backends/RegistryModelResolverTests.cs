using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using SelfTaught.Core.Models;
using SelfTaught.Inference;
using SelfTaught.SimBackend;
using SelfTaught.Web.Backends;

namespace SelfTaught.Web.Tests.Backends;

/// <summary>Core's model port over the real endpoint registry: capabilities, and n choices through Core's contract.</summary>
public sealed class RegistryModelResolverTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static EndpointOptions OpenAI(string name, bool? acceptsN, string baseUrl = "http://127.0.0.1:1/v1") =>
        new() { Name = name, Kind = EndpointKind.OpenAICompatible, BaseUrl = baseUrl, DefaultModel = "judge", AcceptsN = acceptsN };

    private static EndpointOptions Ollama(string name, bool? acceptsN = null) =>
        new() { Name = name, Kind = EndpointKind.Ollama, BaseUrl = "http://127.0.0.1:2", DefaultModel = "judge", AcceptsN = acceptsN };

    private static RegistryModelResolver Resolver(params EndpointOptions[] endpoints)
    {
        var options = new InferenceOptions { Endpoints = [.. endpoints] };
        return new RegistryModelResolver(new EndpointRegistry(options, new ChatClientFactory(options, NullLoggerFactory.Instance, _ => null)));
    }

    [Fact]
    public void AcceptsN_IsTrue_OnlyWhenEveryEndpointARequestMayGoToAcceptsN()
    {
        Assert.True(Resolver(OpenAI("vllm", true)).Resolve(new("judge")).Capabilities.AcceptsN);
        Assert.True(Resolver(OpenAI("vllm", true), OpenAI("sglang", true)).Resolve(new("judge")).Capabilities.AcceptsN);
        Assert.False(Resolver(OpenAI("vllm", true), OpenAI("llama-cpp", false)).Resolve(new("judge")).Capabilities.AcceptsN);
        Assert.False(Resolver(OpenAI("vllm", true), Ollama("ollama")).Resolve(new("judge")).Capabilities.AcceptsN);
        // Naming the endpoint narrows the candidates to it.
        Assert.True(Resolver(OpenAI("vllm", true), Ollama("ollama")).Resolve(new("judge", "vllm")).Capabilities.AcceptsN);
    }

    [Fact]
    public void AcceptsN_IsFalse_ForOllamaEvenIfConfigured_AndWhileAnOpenAIProbeIsUndecided()
    {
        Assert.False(Resolver(Ollama("ollama", acceptsN: true)).Resolve(new("judge")).Capabilities.AcceptsN);
        Assert.False(Resolver(OpenAI("unprobed", null)).Resolve(new("judge")).Capabilities.AcceptsN);
    }

    [Fact]
    public async Task ChatChoices_ThroughTheResolvedClient_ReturnEveryChoiceOfOneRequest()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        var resolver = Resolver(OpenAI("vllm", true, sim.OpenAIBaseUri.ToString()));
        var model = resolver.Resolve(new("sim-judge", "vllm"));
        ChatMessage[] prompt = [new(ChatRole.User, "Compare two answers about tides.")];

        var response = await model.Client.GetResponseAsync(prompt, ChatChoices.WithCount(new ChatOptions { Seed = 9, Temperature = 0.7f }, 3), Ct);
        var choices = ChatChoices.Read(response);

        Assert.True(model.Capabilities.AcceptsN);
        Assert.Equal([0, 1, 2], choices.Select(c => c.Index));
        Assert.Equal(3, choices.Select(c => c.Text).Distinct().Count());
        Assert.All(choices, c => Assert.Equal("stop", c.FinishReason));
        Assert.Equal(3, Assert.Single(sim.Stats.Requests, r => r.IsChat).N);
    }
}
