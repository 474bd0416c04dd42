using Microsoft.Extensions.AI;
using SelfTaught.Inference.Middleware;
using SelfTaught.SimBackend;
using static SelfTaught.Inference.Tests.Sim;

namespace SelfTaught.Inference.Tests;

/// <summary>The real OllamaSharp and OpenAI clients, through the full middleware stack, against SimBackend on loopback.</summary>
public class ClientProtocolTests
{
    private static readonly ChatMessage[] Question = [new(ChatRole.User, "Name three prime numbers and explain why they are prime.")];

    [Theory]
    [InlineData(EndpointKind.Ollama)]
    [InlineData(EndpointKind.OpenAICompatible)]
    public async Task GetResponseAsync_ReturnsTextAndUsage_ThroughTheFullStack(EndpointKind kind)
    {
        await using var sim = await StartAsync();
        var endpoint = kind == EndpointKind.Ollama ? OllamaEndpoint(sim) : OpenAIEndpoint(sim);
        var (registry, _) = Registry(null, endpoint);

        var response = await registry.Resolve("sim-judge").Client.GetResponseAsync(Question, new ChatOptions { Seed = 7 }, Ct);

        Assert.Contains("simulated", response.Text, StringComparison.OrdinalIgnoreCase);
        Assert.True(response.Usage?.InputTokenCount > 0, "prompt tokens missing");
        Assert.True(response.Usage?.OutputTokenCount > 0, "completion tokens missing");
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(endpoint.Name, response.AdditionalProperties?[EndpointCallChatClient.EndpointKey]);
        Assert.IsType<int>(response.AdditionalProperties?[EndpointCallChatClient.LatencyMsKey]);
        var state = registry.Find(endpoint.Name)!;
        Assert.Equal((1, 0), (state.Usage.Requests, state.Usage.Failures));
        Assert.Equal(response.Usage!.OutputTokenCount, state.Usage.CompletionTokens);
        Assert.Equal(0, state.Outstanding);
    }

    [Theory]
    [InlineData(EndpointKind.Ollama)]
    [InlineData(EndpointKind.OpenAICompatible)]
    public async Task GetStreamingResponseAsync_StreamsTheSameTextAsTheNonStreamingCall_WithUsage(EndpointKind kind)
    {
        await using var sim = await StartAsync();
        var endpoint = kind == EndpointKind.Ollama ? OllamaEndpoint(sim) : OpenAIEndpoint(sim);
        var (registry, _) = Registry(null, endpoint);
        var client = registry.Resolve("sim-judge").Client;

        var whole = await client.GetResponseAsync(Question, new ChatOptions { Seed = 11 }, Ct);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(Question, new ChatOptions { Seed = 11 }, Ct)) updates.Add(update);
        var streamed = updates.ToChatResponse();

        Assert.True(updates.Count(u => u.Text.Length > 0) > 1, "expected the text in several chunks");
        Assert.Equal(whole.Text, streamed.Text);
        Assert.Equal(whole.Usage?.OutputTokenCount, streamed.Usage?.OutputTokenCount);
        Assert.Equal(endpoint.Name, streamed.AdditionalProperties?[EndpointCallChatClient.EndpointKey]);
        if (kind == EndpointKind.OpenAICompatible)
            Assert.True(sim.Stats.Requests.Last().IncludeUsage, "the OpenAI client should ask for usage in the stream");
        Assert.Equal(0, registry.Find(endpoint.Name)!.Outstanding);
    }

    [Theory]
    [InlineData(EndpointKind.Ollama)]
    [InlineData(EndpointKind.OpenAICompatible)]
    public async Task SamplingSettings_ReachTheServer_WithMaxTokensDefaulting(EndpointKind kind)
    {
        await using var sim = await StartAsync();
        var endpoint = kind == EndpointKind.Ollama ? OllamaEndpoint(sim) : OpenAIEndpoint(sim);
        endpoint.NumCtx = 8192;
        var (registry, _) = Registry(null, endpoint);
        var client = registry.Resolve("sim-judge").Client;

        await client.GetResponseAsync(Question, new ChatOptions { Temperature = 0.7f, TopP = 0.9f, Seed = 42, MaxOutputTokens = 512, StopSequences = ["</end>"] }, Ct);
        await client.GetResponseAsync(Question, new ChatOptions { Temperature = 0 }, Ct);

        var requests = sim.Stats.Requests.Where(r => r.IsChat).ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal(0.7, requests[0].Temperature!.Value, 3);
        Assert.Equal(0.9, requests[0].TopP!.Value, 3);
        Assert.Equal(42, requests[0].Seed);
        Assert.Equal(512, requests[0].MaxTokens);
        Assert.Equal(["</end>"], requests[0].Stop);
        Assert.Equal(4096, requests[1].MaxTokens);
        // num_ctx is Ollama's; an OpenAI-compatible server never sees it.
        Assert.Equal(kind == EndpointKind.Ollama ? 8192 : null, requests[0].NumCtx);
    }

    [Theory]
    [InlineData(null, "max_tokens", "max_completion_tokens")]
    [InlineData(EndpointOptions.MaxTokens, "max_tokens", "max_completion_tokens")]
    [InlineData(EndpointOptions.MaxCompletionTokens, "max_completion_tokens", "max_tokens")]
    public async Task MaxTokens_IsSentInExactlyTheConfiguredField(string? field, string sent, string notSent)
    {
        await using var sim = await StartAsync();
        var endpoint = OpenAIEndpoint(sim);
        if (field is not null) endpoint.MaxTokensField = field;
        var (registry, _) = Registry(null, endpoint);
        var client = registry.Resolve("sim-judge").Client;

        await client.GetResponseAsync(Question, new ChatOptions { MaxOutputTokens = 7 }, Ct);
        await client.GetResponseAsync(Question, cancellationToken: Ct);
        await foreach (var _ in client.GetStreamingResponseAsync(Question, new ChatOptions { MaxOutputTokens = 9 }, Ct))
        {
        }
        // A caller's own raw OpenAI options are kept: their patch (n = 2) and the limit both arrive.
        await client.GetResponseAsync(Question, new ChatOptions
        {
            MaxOutputTokens = 11,
            RawRepresentationFactory = _ =>
            {
                var raw = new OpenAI.Chat.ChatCompletionOptions();
#pragma warning disable SCME0001 // experimental JsonPatch, the only way to send n (STACK.md gotcha 17)
                raw.Patch.Set("$.n"u8, 2);
#pragma warning restore SCME0001
                return raw;
            },
        }, Ct);

        var requests = sim.Stats.Requests.Where(r => r.IsChat).ToList();
        Assert.Equal([7, 4096, 9, 11], requests.Select(r => r.MaxTokens));
        Assert.Equal(2, requests[3].N);
        foreach (var request in requests)
        {
            using var body = System.Text.Json.JsonDocument.Parse(request.Body);
            Assert.True(body.RootElement.TryGetProperty(sent, out _), $"{sent} missing in {request.Body}");
            Assert.False(body.RootElement.TryGetProperty(notSent, out _), $"{notSent} also sent in {request.Body}");
        }
    }

    [Fact]
    public async Task Seeds_GiveRepeatableAndIndependentSamples()
    {
        await using var sim = await StartAsync();
        var (registry, _) = Registry(null, OpenAIEndpoint(sim));
        var client = registry.Resolve("sim-judge").Client;
        var options = (long seed) => new ChatOptions { Temperature = 0.7f, TopP = 0.9f, Seed = seed };

        var a = await client.GetResponseAsync(Question, options(1), Ct);
        var again = await client.GetResponseAsync(Question, options(1), Ct);
        var b = await client.GetResponseAsync(Question, options(2), Ct);

        Assert.Equal(a.Text, again.Text);
        Assert.NotEqual(a.Text, b.Text);
    }
}
