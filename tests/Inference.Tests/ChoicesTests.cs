using System.Text.Json;
using Microsoft.Extensions.AI;
using SelfTaught.Inference.Middleware;
using SelfTaught.SimBackend;
using static SelfTaught.Inference.Tests.Sim;

namespace SelfTaught.Inference.Tests;

/// <summary>
/// Several choices of one prompt in one request (<c>n</c>), through the real OpenAI and OllamaSharp clients and the
/// full middleware stack, against SimBackend (or a stub) on loopback.
/// </summary>
public class ChoicesTests
{
    private static readonly ChatMessage[] Question = [new(ChatRole.User, "Explain why the sky is blue, with an example.")];

    private static ChatOptions Sampling(long seed, int? n = null)
    {
        var options = new ChatOptions { Temperature = 0.7f, TopP = 0.9f, Seed = seed, MaxOutputTokens = 90 };
        if (n is { } count) options.AdditionalProperties = new() { [ChoicesChatClient.CountKey] = count };
        return options;
    }

    private static EndpointOptions AcceptingN(EndpointOptions endpoint, bool? acceptsN = true)
    {
        endpoint.AcceptsN = acceptsN;
        return endpoint;
    }

    private static List<ReceivedRequest> Chats(SimServer sim) => [.. sim.Stats.Requests.Where(r => r.IsChat)];

    [Fact]
    public async Task NChoices_ReturnEveryChoiceInOneRequest_EqualToSingleRequestsWithConsecutiveSeeds()
    {
        await using var sim = await StartAsync();
        var (registry, _) = Registry(null, AcceptingN(OpenAIEndpoint(sim)));
        var client = registry.Resolve("sim-judge").Client;

        var batch = await client.GetResponseAsync(Question, Sampling(100, n: 4), Ct);
        var singles = new List<ChatResponse>();
        for (var seed = 100; seed < 104; seed++) singles.Add(await client.GetResponseAsync(Question, Sampling(seed), Ct));

        var texts = Assert.IsType<string[]>(batch.AdditionalProperties?[ChoicesChatClient.TextsKey]);
        var reasons = Assert.IsType<string?[]>(batch.AdditionalProperties?[ChoicesChatClient.FinishReasonsKey]);
        Assert.Equal(4, texts.Distinct().Count());
        Assert.Equal(singles.Select(s => s.Text), texts);
        Assert.Equal(batch.Text, texts[0]);
        // Finish reasons are each choice's own: some ran into max_tokens, some stopped.
        Assert.Equal(singles.Select(s => s.FinishReason?.Value), reasons);
        Assert.Contains("length", reasons);
        Assert.Contains("stop", reasons);
        // One request for the four, counted once; its usage covers every choice.
        Assert.Equal(1, Chats(sim).Count(r => r.N == 4));
        Assert.Equal(singles.Sum(s => s.Usage!.OutputTokenCount), batch.Usage?.OutputTokenCount);
        var state = registry.Find("sim-openai")!;
        Assert.Equal(5, state.Usage.Requests);
        Assert.Equal(2 * batch.Usage!.OutputTokenCount, state.Usage.CompletionTokens);
        Assert.Equal(1, batch.AdditionalProperties?[RetryingChatClient.AttemptsKey]);
    }

    [Theory]
    [InlineData(EndpointOptions.MaxTokens)]
    [InlineData(EndpointOptions.MaxCompletionTokens)]
    public async Task NChoices_RequestCarriesNAndTheTokenLimitAndTheSeed_AndKeepsTheCallersRawOptions(string field)
    {
        await using var sim = await StartAsync();
        var endpoint = AcceptingN(OpenAIEndpoint(sim));
        endpoint.MaxTokensField = field;
        var (registry, _) = Registry(null, endpoint);
        var options = Sampling(7, n: 4);
        options.AdditionalProperties!["caller.flag"] = "kept";
        options.RawRepresentationFactory = _ =>
        {
            var raw = new OpenAI.Chat.ChatCompletionOptions();
#pragma warning disable SCME0001 // experimental JsonPatch: a vLLM sampling field a caller might add
            raw.Patch.Set("$.top_k"u8, 20);
#pragma warning restore SCME0001
            return raw;
        };

        var response = await registry.Resolve("sim-judge").Client.GetResponseAsync(Question, options, Ct);

        var request = Assert.Single(Chats(sim));
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(4, body.RootElement.GetProperty("n").GetInt32());
        Assert.Equal(90, body.RootElement.GetProperty(field).GetInt32());
        Assert.Equal(7, body.RootElement.GetProperty("seed").GetInt64());
        Assert.Equal(20, body.RootElement.GetProperty("top_k").GetInt32());
        Assert.DoesNotContain("selftaught", request.Body, StringComparison.Ordinal);
        Assert.Equal(4, Assert.IsType<string[]>(response.AdditionalProperties?[ChoicesChatClient.TextsKey]).Length);
        // The caller's options are not changed by the middleware.
        Assert.Equal(4, options.AdditionalProperties[ChoicesChatClient.CountKey]);
        Assert.Equal(90, options.MaxOutputTokens);
    }

    [Theory]
    [InlineData(EndpointKind.Ollama)]
    [InlineData(EndpointKind.OpenAICompatible)]
    public async Task CountOfOneOrNone_ChangesNothing_AndNoChoiceKeysAreAdded(EndpointKind kind)
    {
        await using var sim = await StartAsync();
        var (registry, _) = Registry(null, kind == EndpointKind.Ollama ? OllamaEndpoint(sim) : OpenAIEndpoint(sim));
        var client = registry.Resolve("sim-judge").Client;

        var plain = await client.GetResponseAsync(Question, Sampling(3), Ct);
        var one = await client.GetResponseAsync(Question, Sampling(3, n: 1), Ct);

        var chats = Chats(sim);
        Assert.Equal(2, chats.Count);
        Assert.Equal(chats[0].Body, chats[1].Body);
        Assert.DoesNotContain("selftaught", chats[1].Body, StringComparison.Ordinal);
        Assert.Null(chats[1].N);
        Assert.Equal(plain.Text, one.Text);
        Assert.False(one.AdditionalProperties?.ContainsKey(ChoicesChatClient.TextsKey));
    }

    [Fact]
    public async Task NChoices_OnOllama_FailFast_WithoutSendingOrCountingARequest()
    {
        await using var sim = await StartAsync();
        var (registry, _) = Registry(null, OllamaEndpoint(sim, "box"));
        var client = registry.Resolve("sim-judge").Client;

        var error = await Assert.ThrowsAsync<InferenceException>(() => client.GetResponseAsync(Question, Sampling(1, n: 4), Ct));
        var streaming = await Assert.ThrowsAsync<InferenceException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync(Question, Sampling(1, n: 4), Ct))
            {
            }
        });

        Assert.Contains("'box'", error.Message);
        Assert.Contains("n = 4", error.Message);
        Assert.Contains("Ollama has no n", error.Message);
        Assert.Contains("nothing was sent", error.Message);
        Assert.False(error.Transient);
        Assert.IsType<ChoicesNotAcceptedException>(error.InnerException);
        Assert.Contains("non-streaming", streaming.Message);
        Assert.Equal(0, sim.Stats.TotalRequests);
        var state = registry.Find("box")!;
        Assert.Equal((0L, 0L), (state.Usage.Requests, state.Outstanding));
    }

    [Fact]
    public async Task NChoices_OnALlamaCppServer_FailClearlyWithoutRetries_WhenAcceptsNIsWronglyConfigured()
    {
        await using var sim = await StartAsync(o => o.NMode = SimNMode.Reject500);
        var (registry, _) = Registry(FastRetry(maxRetries: 3), AcceptingN(OpenAIEndpoint(sim, "llama-cpp")));

        var error = await Assert.ThrowsAsync<InferenceException>(() =>
            registry.Resolve("sim-judge").Client.GetResponseAsync(Question, Sampling(1, n: 4), Ct));

        Assert.Contains("'llama-cpp'", error.Message);
        Assert.Contains("Only one completion choice is allowed", error.Message);
        Assert.Contains("AcceptsN to false", error.Message);
        Assert.False(error.Transient);
        // A 500 is normally retried; this one never succeeds, so it is sent once.
        Assert.Single(Chats(sim));
    }

    [Fact]
    public async Task NChoices_FailFast_BeforeTheProbeDecides_AndAfterItFindsALlamaCppServer()
    {
        await using var sim = await StartAsync(o => o.NMode = SimNMode.Reject500);
        var (registry, checker) = Registry(FastRetry(), OpenAIEndpoint(sim, "llama-cpp"));
        var client = registry.Resolve("sim-judge").Client;

        var undecided = await Assert.ThrowsAsync<InferenceException>(() => client.GetResponseAsync(Question, Sampling(1, n: 4), Ct));
        await checker.CheckAllAsync(Ct);
        var refused = await Assert.ThrowsAsync<InferenceException>(() => client.GetResponseAsync(Question, Sampling(1, n: 4), Ct));

        Assert.Contains("not known yet", undecided.Message);
        Assert.False(registry.Find("llama-cpp")!.AcceptsN);
        Assert.Contains("refuses or ignores n", refused.Message);
        // Only the health check's n = 2 probe reached the server.
        Assert.Equal([2], Chats(sim).Select(r => r.N));
    }

    [Fact]
    public async Task NChoices_WorkAfterTheProbeFindsTheServerAcceptsN()
    {
        await using var sim = await StartAsync();
        var (registry, checker) = Registry(FastRetry(), OpenAIEndpoint(sim, "vllm"));
        await checker.CheckAllAsync(Ct);

        var response = await registry.Resolve("sim-judge").Client.GetResponseAsync(Question, Sampling(5, n: 3), Ct);

        Assert.True(registry.Find("vllm")!.AcceptsN);
        Assert.Equal(3, Assert.IsType<string[]>(response.AdditionalProperties?[ChoicesChatClient.TextsKey]).Distinct().Count());
    }

    [Fact]
    public async Task NChoices_GoOnlyToEndpointsThatAcceptN_WhenSeveralServeTheModel()
    {
        await using var vllm = await StartAsync();
        await using var llamaCpp = await StartAsync(o => o.NMode = SimNMode.Reject500);
        await using var ollama = await StartAsync();
        var (registry, _) = Registry(FastRetry(),
            AcceptingN(OpenAIEndpoint(vllm, "vllm")), AcceptingN(OpenAIEndpoint(llamaCpp, "llama-cpp"), false), OllamaEndpoint(ollama, "ollama"));
        var client = registry.Resolve("sim-judge").Client;

        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => client.GetResponseAsync(Question, Sampling(i * 10, n: 3), Ct)));
        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => client.GetResponseAsync(Question, Sampling(i), Ct)));

        Assert.Equal(6, Chats(vllm).Count(r => r.N == 3));
        Assert.DoesNotContain(Chats(llamaCpp), r => r.N is not null);
        Assert.Equal(12, Chats(vllm).Count + Chats(llamaCpp).Count + Chats(ollama).Count);
        // Single requests still spread over all three.
        Assert.NotEmpty(Chats(llamaCpp));
        Assert.NotEmpty(Chats(ollama));
    }

    [Fact]
    public async Task NChoices_FromAServerThatIgnoresN_FailClearly()
    {
        await using var stub = await StubServer.StartAsync(new Dictionary<string, (int, string)>
        {
            ["/v1/chat/completions"] = (200, """
                {"id":"x","object":"chat.completion","created":1,"model":"m","choices":[
                 {"index":0,"message":{"role":"assistant","content":"only one"},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}
                """),
        }, Ct);
        var (registry, _) = Registry(FastRetry(), new EndpointOptions
        {
            Name = "clone", Kind = EndpointKind.OpenAICompatible, BaseUrl = stub.BaseUri + "/v1", DefaultModel = "m", AcceptsN = true,
        });

        var error = await Assert.ThrowsAsync<InferenceException>(() =>
            registry.Resolve("m").Client.GetResponseAsync(Question, Sampling(1, n: 3), Ct));

        Assert.Contains("'clone'", error.Message);
        Assert.Contains("asked for n = 3 choices, the server returned 1", error.Message);
        Assert.False(error.Transient);
        Assert.Single(stub.Requests);
    }

    [Fact]
    public async Task NChoices_AreReturnedInIndexOrder_WhateverOrderTheServerListsThem()
    {
        await using var stub = await StubServer.StartAsync(new Dictionary<string, (int, string)>
        {
            ["/v1/chat/completions"] = (200, """
                {"id":"x","object":"chat.completion","created":1,"model":"m","choices":[
                 {"index":1,"message":{"role":"assistant","content":"second"},"finish_reason":"length"},
                 {"index":0,"message":{"role":"assistant","content":"first"},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}
                """),
        }, Ct);
        var (registry, _) = Registry(FastRetry(), new EndpointOptions
        {
            Name = "clone", Kind = EndpointKind.OpenAICompatible, BaseUrl = stub.BaseUri + "/v1", DefaultModel = "m", AcceptsN = true,
        });

        var response = await registry.Resolve("m").Client.GetResponseAsync(Question, Sampling(1, n: 2), Ct);

        Assert.Equal(["first", "second"], Assert.IsType<string[]>(response.AdditionalProperties?[ChoicesChatClient.TextsKey]));
        Assert.Equal(["stop", "length"], Assert.IsType<string?[]>(response.AdditionalProperties?[ChoicesChatClient.FinishReasonsKey]));
    }

    [Fact]
    public async Task NChoices_WhileStreaming_FailFast_OnAnEndpointThatAcceptsN()
    {
        await using var sim = await StartAsync();
        var (registry, _) = Registry(null, AcceptingN(OpenAIEndpoint(sim)));

        var error = await Assert.ThrowsAsync<InferenceException>(async () =>
        {
            await foreach (var _ in registry.Resolve("sim-judge").Client.GetStreamingResponseAsync(Question, Sampling(1, n: 2), Ct))
            {
            }
        });

        Assert.Contains("non-streaming", error.Message);
        Assert.Equal(0, sim.Stats.TotalRequests);
    }
}
