using System.Net;
using Microsoft.Extensions.AI;
using OllamaSharp;

namespace SelfTaught.SimBackend.Tests;

public sealed class StatisticsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Body = """{"model":"sim-judge","messages":[{"role":"user","content":"hello"}]}""";

    [Fact]
    public async Task MaxConcurrentChatRequests_CountsRequestsHeldInFlightTogether()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        sim.HoldChatRequests();

        var calls = Enumerable.Range(0, 5).Select(_ => http.PostAsync("v1/chat/completions", OpenAIClientTests.Json(Body), Ct)).ToList();
        await sim.Stats.WaitForInFlightChatRequestsAsync(5, TimeSpan.FromSeconds(30), Ct);
        var inFlight = sim.Stats.InFlightChatRequests;
        sim.ReleaseChatRequests();
        var responses = await Task.WhenAll(calls);

        Assert.Equal(5, inFlight);
        Assert.Equal(5, sim.Stats.MaxConcurrentChatRequests);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(0, sim.Stats.InFlightChatRequests);
        foreach (var response in responses) response.Dispose();
    }

    [Theory]
    [InlineData(30, false)]
    [InlineData(0, false)]
    [InlineData(0, true)]
    public async Task MaxConcurrentChatRequests_NeverExceedsClientLimit_WhenRequestsAreThrottled(int latencyMs, bool stream)
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { LatencyMs = latencyMs, AnswerMinWords = 5, AnswerMaxWords = 20 }, Ct);
        using var ollama = new OllamaApiClient(new Uri(sim.BaseUri), "sim-judge");
        IChatClient client = ollama;
        using var limit = new SemaphoreSlim(3); // stands in for a client-side concurrency limit

        // The server ends a request's in-flight count just before its last bytes, so a client that starts the next
        // request as soon as it has an answer never looks like a fourth concurrent request.
        await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            await limit.WaitAsync(Ct);
            try
            {
                ChatMessage[] messages = [new(ChatRole.User, $"question {i}")];
                if (stream)
                {
                    await foreach (var _ in client.GetStreamingResponseAsync(messages, cancellationToken: Ct)) { }
                }
                else
                {
                    await client.GetResponseAsync(messages, cancellationToken: Ct);
                }
            }
            finally
            {
                limit.Release();
            }
        }));

        Assert.InRange(sim.Stats.MaxConcurrentChatRequests, 1, 3);
        Assert.Equal(60, sim.Stats.RequestsTo(SimRoutes.OllamaChat));
        Assert.Equal(0, sim.Stats.InFlightChatRequests);
        Assert.All(sim.Stats.ChatRequests, r => Assert.Equal(200, r.StatusCode));
    }

    [Fact]
    public async Task InFlightRequests_WithLongLatency_AreAllCounted_AndEndWhenClientsCancel()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions { LatencyMs = 60_000 }, Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var calls = Enumerable.Range(0, 4).Select(_ => http.PostAsync("v1/chat/completions", OpenAIClientTests.Json(Body), cancel.Token)).ToList();
        await sim.Stats.WaitForInFlightChatRequestsAsync(4, TimeSpan.FromSeconds(30), Ct);
        await cancel.CancelAsync();
        foreach (var call in calls) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        Assert.Equal(4, sim.Stats.MaxConcurrentChatRequests);
    }

    [Fact]
    public async Task RequestsByRoute_CountsEveryRoute_AndResetClears()
    {
        await using var sim = await SimServer.StartAsync(new SimOptions(), Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };

        (await http.GetAsync("api/tags", Ct)).Dispose();
        (await http.GetAsync("api/tags", Ct)).Dispose();
        (await http.GetAsync("api/version", Ct)).Dispose();
        (await http.GetAsync("v1/models", Ct)).Dispose();
        (await http.PostAsync("v1/chat/completions", OpenAIClientTests.Json(Body), Ct)).Dispose();
        (await http.GetAsync("api/nothing-here", Ct)).Dispose();

        Assert.Equal(6, sim.Stats.TotalRequests);
        Assert.Equal(2, sim.Stats.RequestsTo(SimRoutes.OllamaTags));
        Assert.Equal(1, sim.Stats.RequestsTo(SimRoutes.OllamaVersion));
        Assert.Equal(1, sim.Stats.RequestsTo(SimRoutes.OpenAIModels));
        Assert.Equal(1, sim.Stats.RequestsTo(SimRoutes.OpenAIChat));
        Assert.Equal(1, sim.Stats.RequestsTo(SimRoutes.Unmatched));
        Assert.Equal(6, sim.Stats.Requests.Count);
        Assert.Single(sim.Stats.ChatRequests);

        sim.Stats.Reset();
        Assert.Equal(0, sim.Stats.TotalRequests);
        Assert.Empty(sim.Stats.Requests);
    }

    [Fact]
    public async Task ResponseDelay_GrowsWithResponseLength()
    {
        var options = new SimOptions { LatencyMs = 200, PerTokenMs = 2.5 };

        Assert.Equal(TimeSpan.FromMilliseconds(200), options.ComputeResponseDelay(0));
        Assert.Equal(TimeSpan.FromMilliseconds(450), options.ComputeResponseDelay(100));
        Assert.True(options.ComputeResponseDelay(400) > options.ComputeResponseDelay(100));

        // The server reports the simulated generation time it used: Ollama's eval_duration = per-token delay × eval_count.
        await using var sim = await SimServer.StartAsync(new SimOptions { PerTokenMs = 0.01, AnswerMinWords = 20, AnswerMaxWords = 200 }, Ct);
        using var http = new HttpClient { BaseAddress = sim.BaseAddress };
        var durations = new List<(long Tokens, long EvalNs)>();
        for (var seed = 0; seed < 6; seed++)
        {
            var body = $$"""{"model":"sim-judge","stream":false,"options":{"seed":{{seed}}},"messages":[{"role":"user","content":"Describe a forest."}]}""";
            using var response = await http.PostAsync("api/chat", OpenAIClientTests.Json(body), Ct);
            using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            durations.Add((json.RootElement.GetProperty("eval_count").GetInt64(), json.RootElement.GetProperty("eval_duration").GetInt64()));
        }

        Assert.True(durations.Select(d => d.Tokens).Distinct().Count() > 1, "answers vary in length");
        Assert.All(durations, d => Assert.Equal((long)(d.Tokens * 0.01 * 1_000_000), d.EvalNs));
        var ordered = durations.OrderBy(d => d.Tokens).ToList();
        Assert.True(ordered[^1].EvalNs > ordered[0].EvalNs);
    }
}
