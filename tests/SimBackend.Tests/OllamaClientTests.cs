using Microsoft.Extensions.AI;
using OllamaSharp;
using OllamaSharp.Models;

namespace SelfTaught.SimBackend.Tests;

/// <summary>The real OllamaSharp client (as IChatClient) against the simulator's Ollama routes.</summary>
public sealed class OllamaClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetResponseAsync_ReturnsSimulatedTextAndUsage_WhenNotStreaming()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var ollama = new OllamaApiClient(new Uri(sim.BaseUri), "sim-judge");
        IChatClient client = ollama;

        var options = new ChatOptions { Temperature = 0.7f, TopP = 0.9f, MaxOutputTokens = 4096, Seed = 42 };
        options.AddOllamaOption(OllamaOption.NumCtx, 16384);
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Explain how photosynthesis works in plants.")], options, Ct);

        Assert.StartsWith("(simulated response)", response.Text, StringComparison.Ordinal);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        var request = Assert.Single(sim.Stats.ChatRequests);
        Assert.False(request.Stream);
        Assert.Equal(SimProtocol.Ollama, request.Protocol);
        Assert.Equal("sim-judge", request.Model);
        Assert.Equal(0.7, request.Temperature!.Value, 3);
        Assert.Equal(0.9, request.TopP!.Value, 3);
        Assert.Equal(4096, request.MaxTokens);
        Assert.Equal(42, request.Seed);
        Assert.Equal(16384, request.NumCtx);
        Assert.Equal(200, request.StatusCode);

        Assert.NotNull(response.Usage);
        Assert.Equal(SimTokenizer.CountPromptTokens(["Explain how photosynthesis works in plants."]), response.Usage.InputTokenCount);
        Assert.Equal(SimTokenizer.CountTokens(response.Text), response.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_StreamsSeveralChunksWithSameTextAsNonStreaming_WhenSeedIsEqual()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var ollama = new OllamaApiClient(new Uri(sim.BaseUri), "sim-judge");
        IChatClient client = ollama;
        ChatMessage[] messages = [new(ChatRole.User, "Give me tips for learning to play the guitar.")];

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(messages, new ChatOptions { Seed = 7 }, Ct)) updates.Add(update);
        var streamed = updates.ToChatResponse();
        var whole = await client.GetResponseAsync(messages, new ChatOptions { Seed = 7 }, Ct);

        Assert.True(updates.Count(u => !string.IsNullOrEmpty(u.Text)) > 3, "content arrives in several NDJSON lines");
        Assert.Equal(whole.Text, streamed.Text);
        Assert.True(sim.Stats.ChatRequests[0].Stream, "Ollama streams by default");
        var usage = updates.SelectMany(u => u.Contents).OfType<UsageContent>().Single();
        Assert.Equal(SimTokenizer.CountTokens(streamed.Text), usage.Details.OutputTokenCount);
        Assert.True(usage.Details.InputTokenCount > 0);
    }

    [Fact]
    public async Task GetResponseAsync_TruncatesWithLengthFinishReason_WhenNumPredictIsReached()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var ollama = new OllamaApiClient(new Uri(sim.BaseUri), "sim-judge");

        var response = await ((IChatClient)ollama).GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Describe the water cycle.")], new ChatOptions { MaxOutputTokens = 5 }, Ct);

        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(5, SimTokenizer.CountTokens(response.Text));
        Assert.Equal(5, response.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task ListLocalModelsAndVersion_ReportStableDigestsAndVersion()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { Models = ["judge-a", "judge-b:7b"] }, Ct);
        using var ollama = new OllamaApiClient(new Uri(sim.BaseUri));

        var models = (await ollama.ListLocalModelsAsync(Ct)).ToList();
        var version = await ollama.GetVersionAsync(Ct);

        Assert.Equal(["judge-a:latest", "judge-b:7b"], models.Select(m => m.Name));
        Assert.All(models, m => Assert.Matches("^[0-9a-f]{64}$", m.Digest));
        Assert.NotEqual(models[0].Digest, models[1].Digest);
        Assert.Equal(SimModels.Digest("judge-a"), models[0].Digest);
        Assert.Equal("gguf", models[0].Details.Format);
        Assert.Equal(sim.Options.OllamaVersion, version);
        Assert.True(await ollama.IsRunningAsync(Ct));
    }

    [Fact]
    public async Task GetResponseAsync_Throws404WithOllamaErrorShape_WhenModelIsUnknown()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var ollama = new OllamaApiClient(new Uri(sim.BaseUri), "no-such-model");

        var error = await Assert.ThrowsAsync<HttpRequestException>(() =>
            ((IChatClient)ollama).GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: Ct));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, error.StatusCode);
    }
}
