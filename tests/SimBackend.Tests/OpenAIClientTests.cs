using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;
using ChatRole = Microsoft.Extensions.AI.ChatRole;
using ChatFinishReason = Microsoft.Extensions.AI.ChatFinishReason;

namespace SelfTaught.SimBackend.Tests;

/// <summary>The real OpenAI .NET client (directly and through Microsoft.Extensions.AI) against the simulator's /v1 routes.</summary>
public sealed class OpenAIClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ChatClient OpenAIChat(SimServer sim, string model = "sim-judge") =>
        new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions
        {
            Endpoint = sim.OpenAIBaseUri,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0), // errors must reach the test, not be retried
        });

    [Fact]
    public async Task GetResponseAsync_ReturnsTextUsageAndRecordsParameters_WhenNotStreaming()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        var client = OpenAIChat(sim).AsIChatClient();

        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "You are helpful."), new ChatMessage(ChatRole.User, "What is the capital of France?")],
            new ChatOptions { Temperature = 0.7f, TopP = 0.9f, MaxOutputTokens = 300, Seed = 5, StopSequences = ["\u0000never"] }, Ct);

        Assert.StartsWith("(simulated response)", response.Text, StringComparison.Ordinal);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(SimTokenizer.CountPromptTokens(["You are helpful.", "What is the capital of France?"]), response.Usage!.InputTokenCount);
        Assert.Equal(SimTokenizer.CountTokens(response.Text), response.Usage.OutputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount + response.Usage.OutputTokenCount, response.Usage.TotalTokenCount);

        var request = Assert.Single(sim.Stats.ChatRequests);
        Assert.Equal(SimProtocol.OpenAI, request.Protocol);
        Assert.Equal("sim-judge", request.Model);
        Assert.Equal(0.7, request.Temperature!.Value, 3);
        Assert.Equal(0.9, request.TopP!.Value, 3);
        Assert.Equal(300, request.MaxTokens);
        Assert.Equal(5, request.Seed);
        Assert.Equal(["\u0000never"], request.Stop);
        Assert.Equal(["system", "user"], request.Messages.Select(m => m.Role));
        Assert.Equal("Bearer unused", request.Authorization);
        Assert.False(request.Stream);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_EndsWithUsageChunk_WhenIncludeUsage()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        var client = OpenAIChat(sim).AsIChatClient();
        ChatMessage[] messages = [new(ChatRole.User, "Write a short story about a lighthouse keeper.")];

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(messages, new ChatOptions { Seed = 11 }, Ct)) updates.Add(update);
        var streamed = updates.ToChatResponse();
        var whole = await client.GetResponseAsync(messages, new ChatOptions { Seed = 11 }, Ct);

        var streamRequest = sim.Stats.ChatRequests[0];
        Assert.True(streamRequest.Stream);
        Assert.True(streamRequest.IncludeUsage, "the OpenAI client asks for usage when streaming");
        Assert.True(updates.Count(u => !string.IsNullOrEmpty(u.Text)) > 3, "content arrives in several SSE chunks");
        Assert.Equal(whole.Text, streamed.Text);
        Assert.Equal(ChatFinishReason.Stop, streamed.FinishReason);
        var usage = updates.SelectMany(u => u.Contents).OfType<UsageContent>().Single();
        Assert.Equal(whole.Usage!.OutputTokenCount, usage.Details.OutputTokenCount);
        Assert.Equal(whole.Usage.InputTokenCount, usage.Details.InputTokenCount);
    }

    [Fact]
    public async Task RawStream_HasRoleFirstUsageWithEmptyChoicesLastAndDone()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };

        using var response = await http.PostAsync("v1/chat/completions", Json("""
            {"model":"sim-judge","messages":[{"role":"user","content":"Name three rivers."}],"stream":true,"stream_options":{"include_usage":true},"max_tokens":12}
            """), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal("length", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(12, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
    }

    [Fact]
    public async Task RawStream_InterleavesChoices_WhenNIsTwo()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };

        using var response = await http.PostAsync("v1/chat/completions", Json("""
            {"model":"sim-judge","messages":[{"role":"user","content":"Name three rivers."}],"n":2,"seed":4,"stream":true,"stream_options":{"include_usage":true}}
            """), Ct);
        var events = (await response.Content.ReadAsStringAsync(Ct)).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();

        var texts = new[] { 0, 1 }.Select(i => string.Concat(chunks
            .SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Where(c => c.GetProperty("index").GetInt32() == i && c.GetProperty("delta").TryGetProperty("content", out _))
            .Select(c => c.GetProperty("delta").GetProperty("content").GetString()))).ToList();
        Assert.NotEqual(texts[0], texts[1]);
        Assert.All(texts, t => Assert.StartsWith("(simulated response)", t, StringComparison.Ordinal));
        Assert.Equal(texts.Sum(SimTokenizer.CountTokens), chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task CompleteChatAsync_ReturnsThreeDistinctChoicesInRawResponse_WhenNIsPatchedToThree()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
#pragma warning disable OPENAI001 // Seed is marked experimental in OpenAI 2.14; the simulator honours it
        var options = new ChatCompletionOptions { Temperature = 0.7f, Seed = 100 };
#pragma warning restore OPENAI001
#pragma warning disable SCME0001 // experimental JsonPatch: the only way to send n with OpenAI 2.14 (STACK.md gotcha 17)
        options.Patch.Set("$.n"u8, 3);
#pragma warning restore SCME0001

        var result = await OpenAIChat(sim).CompleteChatAsync([new UserChatMessage("Suggest a name for a bakery.")], options, Ct);

        using var raw = JsonDocument.Parse(result.GetRawResponse().Content.ToString());
        var choices = raw.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(3, choices.Count);
        Assert.Equal([0, 1, 2], choices.Select(c => c.GetProperty("index").GetInt32()));
        var texts = choices.Select(c => c.GetProperty("message").GetProperty("content").GetString()).ToList();
        Assert.Equal(3, texts.Distinct().Count());
        Assert.Equal(texts[0], result.Value.Content[0].Text);
        Assert.Equal(3, sim.Stats.ChatRequests[0].N);
        var completionTokens = raw.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        Assert.Equal(texts.Sum(SimTokenizer.CountTokens), completionTokens);

        // Choice i of seed s is the same sample as choice 0 of seed s + i.
#pragma warning disable OPENAI001
        var single = await OpenAIChat(sim).CompleteChatAsync([new UserChatMessage("Suggest a name for a bakery.")],
            new ChatCompletionOptions { Temperature = 0.7f, Seed = 102 }, Ct);
#pragma warning restore OPENAI001
        Assert.Equal(texts[2], single.Value.Content[0].Text);
    }

    [Fact]
    public async Task CompleteChatAsync_Fails500LikeLlamaCpp_WhenNModeIsReject500AndNIsAboveOne()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { NMode = SimNMode.Reject500 }, Ct);
        var options = new ChatCompletionOptions();
#pragma warning disable SCME0001
        options.Patch.Set("$.n"u8, 2);
#pragma warning restore SCME0001

        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            OpenAIChat(sim).CompleteChatAsync([new UserChatMessage("hi")], options, Ct));
        var ok = await OpenAIChat(sim).CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Ct);

        Assert.Equal(500, error.Status);
        Assert.Contains("Only one completion choice is allowed", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("(simulated response)", ok.Value.Content[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_TruncatesWithLengthFinishReason_WhenMaxTokensIsReached()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);

        var response = await OpenAIChat(sim).AsIChatClient().GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Explain quantum entanglement.")], new ChatOptions { MaxOutputTokens = 7 }, Ct);

        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(7, SimTokenizer.CountTokens(response.Text));
        Assert.Equal(7, sim.Stats.ChatRequests[0].MaxTokens);
    }

    [Fact]
    public async Task CompleteChatAsync_ThrowsModelNotFound404_WhenModelIsUnknown()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };

        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            OpenAIChat(sim, "gpt-unknown").CompleteChatAsync([new UserChatMessage("hi")], cancellationToken: Ct));
        using var raw = await http.PostAsync("v1/chat/completions", Json("""{"model":"gpt-unknown","messages":[{"role":"user","content":"hi"}]}"""), Ct);
        using var body = JsonDocument.Parse(await raw.Content.ReadAsStringAsync(Ct));

        Assert.Equal(404, error.Status);
        var shape = body.RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", shape.GetProperty("type").GetString());
        Assert.Equal("model_not_found", shape.GetProperty("code").GetString());
        Assert.Contains("gpt-unknown", shape.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelsRoute_ListsConfiguredModels()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { Models = ["m1", "m2"] }, Ct);
        var models = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = sim.OpenAIBaseUri }).GetOpenAIModelClient();

        var list = await models.GetModelsAsync(Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        using var raw = JsonDocument.Parse(await http.GetStringAsync("v1/models", Ct));

        Assert.Equal(["m1", "m2"], list.Value.Select(m => m.Id));
        Assert.Equal("list", raw.RootElement.GetProperty("object").GetString());
        Assert.All(raw.RootElement.GetProperty("data").EnumerateArray(), m =>
        {
            Assert.Equal("model", m.GetProperty("object").GetString());
            Assert.True(m.GetProperty("created").GetInt64() > 0);
            Assert.False(string.IsNullOrEmpty(m.GetProperty("owned_by").GetString()));
        });
        Assert.Equal(2, sim.Stats.RequestsTo(SimRoutes.OpenAIModels));
    }

    internal static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
