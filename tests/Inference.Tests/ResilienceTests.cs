using System.Diagnostics;
using Microsoft.Extensions.AI;
using SelfTaught.Inference.Middleware;
using SelfTaught.SimBackend;
using static SelfTaught.Inference.Tests.Sim;

namespace SelfTaught.Inference.Tests;

public class ResilienceTests
{
    private static readonly ChatMessage[] Hello = [new(ChatRole.User, "Say hello.")];

    [Theory]
    [InlineData(EndpointKind.Ollama)]
    [InlineData(EndpointKind.OpenAICompatible)]
    public async Task Retry_WaitsWhatRetryAfterAsks_On429_ThenSucceeds(EndpointKind kind)
    {
        await using var sim = await StartAsync(o => o.RetryAfterSeconds = 2);
        var endpoint = kind == EndpointKind.Ollama ? OllamaEndpoint(sim) : OpenAIEndpoint(sim);
        sim.FailNextRequests(2, SimFaultKind.Status429);
        var waits = new List<TimeSpan>();
        var http = new ChatClientFactory(new InferenceOptions(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, _ => null).CreateHttpClient(endpoint);
        var client = new RetryingChatClient(ChatClientFactory.CreateProtocolClient(endpoint, http, "sim-judge", null), FastRetry(),
            delay: (wait, _) => { waits.Add(wait); return Task.CompletedTask; });

        var response = await client.GetResponseAsync(Hello, cancellationToken: Ct);

        Assert.Contains("simulated", response.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2)], waits);
        Assert.Equal(3, response.AdditionalProperties?[RetryingChatClient.AttemptsKey]);
        Assert.Equal([429, 429, 200], sim.Stats.Requests.Where(r => r.IsChat).Select(r => r.StatusCode));
    }

    [Fact]
    public async Task Retry_BacksOffExponentiallyWithJitter_On500()
    {
        await using var sim = await StartAsync();
        var endpoint = OpenAIEndpoint(sim);
        sim.FailNextRequests(3, SimFaultKind.Status500);
        var waits = new List<TimeSpan>();
        var http = new ChatClientFactory(new InferenceOptions(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, _ => null).CreateHttpClient(endpoint);
        var policy = new RetryOptions { MaxRetries = 4, BaseDelayMs = 100, MaxDelayMs = 10_000 };
        var client = new RetryingChatClient(ChatClientFactory.CreateProtocolClient(endpoint, http, "sim-judge", null), policy,
            delay: (wait, _) => { waits.Add(wait); return Task.CompletedTask; }, jitter: new Random(5));

        await client.GetResponseAsync(Hello, cancellationToken: Ct);

        // Equal jitter: attempt k waits between half and all of base·2^k.
        Assert.Equal(3, waits.Count);
        for (var k = 0; k < 3; k++)
        {
            var full = 100 * Math.Pow(2, k);
            Assert.InRange(waits[k].TotalMilliseconds, full / 2, full);
        }
    }

    [Fact]
    public async Task Retry_GivesUp_AfterMaxRetries_WithAnErrorNamingEndpointAndStatus()
    {
        await using var sim = await StartAsync();
        sim.FailNextRequests(10, SimFaultKind.Status500);
        var (registry, _) = Registry(FastRetry(maxRetries: 2), OpenAIEndpoint(sim, "gpu-1"));

        var ex = await Assert.ThrowsAsync<InferenceException>(() => registry.Resolve("sim-judge").Client.GetResponseAsync(Hello, cancellationToken: Ct));

        Assert.Contains("gpu-1", ex.Message);
        Assert.Contains(sim.OpenAIBaseUri.ToString().TrimEnd('/'), ex.Message);
        Assert.Contains("HTTP 500", ex.Message);
        Assert.True(ex.Transient);
        Assert.Equal(3, sim.Stats.Requests.Count(r => r.IsChat));
        Assert.Equal((1, 1), (registry.Find("gpu-1")!.Usage.Requests, registry.Find("gpu-1")!.Usage.Failures));
    }

    [Fact]
    public async Task Retry_DoesNotRetry_WhenRetryAfterIsLongerThanAllowed()
    {
        await using var sim = await StartAsync(o => o.RetryAfterSeconds = 600);
        sim.FailNextRequests(1, SimFaultKind.Status429);
        var (registry, _) = Registry(FastRetry(), OllamaEndpoint(sim));

        var ex = await Assert.ThrowsAsync<InferenceException>(() => registry.Resolve("sim-judge").Client.GetResponseAsync(Hello, cancellationToken: Ct));

        Assert.Contains("HTTP 429", ex.Message);
        Assert.Equal(1, sim.Stats.Requests.Count(r => r.IsChat));
    }

    [Theory]
    [InlineData(EndpointKind.Ollama)]
    [InlineData(EndpointKind.OpenAICompatible)]
    public async Task Timeout_CancelsAHangingRequest_AndTheRetrySucceeds(EndpointKind kind)
    {
        await using var sim = await StartAsync();
        var endpoint = kind == EndpointKind.Ollama ? OllamaEndpoint(sim, timeoutSeconds: 1) : OpenAIEndpoint(sim, timeoutSeconds: 1);
        sim.FailNextRequests(1, SimFaultKind.Timeout);
        var (registry, _) = Registry(FastRetry(), endpoint);

        var response = await registry.Resolve("sim-judge").Client.GetResponseAsync(Hello, cancellationToken: Ct);

        Assert.Contains("simulated", response.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, sim.Stats.Requests.Count(r => r.IsChat));
    }

    [Fact]
    public async Task Timeout_FailsWithAClearMessage_WhenEveryAttemptHangs()
    {
        await using var sim = await StartAsync();
        sim.FailNextRequests(10, SimFaultKind.Timeout);
        var (registry, _) = Registry(FastRetry(maxRetries: 1), OllamaEndpoint(sim, "slow-box", timeoutSeconds: 1));

        var ex = await Assert.ThrowsAsync<InferenceException>(() => registry.Resolve("sim-judge").Client.GetResponseAsync(Hello, cancellationToken: Ct));

        Assert.Contains("slow-box", ex.Message);
        Assert.Contains("request timeout of 1 s", ex.Message);
    }

    [Fact]
    public async Task Retry_RecoversFromADroppedConnection()
    {
        await using var sim = await StartAsync();
        sim.FailNextRequests(1, SimFaultKind.DropConnection);
        var (registry, _) = Registry(FastRetry(), OpenAIEndpoint(sim));

        var response = await registry.Resolve("sim-judge").Client.GetResponseAsync(Hello, cancellationToken: Ct);

        Assert.Contains("simulated", response.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, sim.Stats.Requests.Count(r => r.IsChat));
    }

    [Fact]
    public async Task CallerCancellation_IsNotRetried_AndPropagatesAsCancellation()
    {
        await using var sim = await StartAsync();
        sim.HoldChatRequests();
        var (registry, _) = Registry(FastRetry(), OllamaEndpoint(sim));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var call = registry.Resolve("sim-judge").Client.GetResponseAsync(Hello, cancellationToken: cancel.Token);
        await WaitUntil(() => sim.Stats.Requests.Any(r => r.IsChat));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        sim.ReleaseChatRequests();
        Assert.Equal(1, sim.Stats.Requests.Count(r => r.IsChat));
        Assert.Equal(0, registry.Find("sim-ollama")!.Outstanding);
    }

    [Theory]
    [InlineData(EndpointKind.Ollama)]
    [InlineData(EndpointKind.OpenAICompatible)]
    public async Task ConcurrencyLimit_IsNeverExceeded_AtTheServer_AndIsReached(EndpointKind kind)
    {
        await using var sim = await StartAsync(o => o.LatencyMs = 30);
        var endpoint = kind == EndpointKind.Ollama ? OllamaEndpoint(sim, maxConcurrent: 3) : OpenAIEndpoint(sim, maxConcurrent: 3);
        var (registry, _) = Registry(null, endpoint);
        // Two clients of the same endpoint (as two stages would have) share one limit.
        var judge = registry.Resolve("sim-judge").Client;
        var generator = registry.Resolve("sim-generator", endpoint.Name).Client;

        await Task.WhenAll(Enumerable.Range(0, 24).Select(i =>
            (i % 2 == 0 ? judge : generator).GetResponseAsync(Hello, new ChatOptions { Seed = i }, Ct)));

        Assert.Equal(24, sim.Stats.Requests.Count(r => r.IsChat));
        Assert.Equal(3, sim.Stats.MaxConcurrentChatRequests);
    }

    [Theory]
    [InlineData(EndpointKind.Ollama)]
    [InlineData(EndpointKind.OpenAICompatible)]
    public async Task Retry_HonoursRetryAfter_ThroughTheRegistrysFullStack(EndpointKind kind)
    {
        await using var sim = await StartAsync(o => o.RetryAfterSeconds = 1);
        sim.FailNextRequests(1, SimFaultKind.Status429);
        var (registry, _) = Registry(FastRetry(), kind == EndpointKind.Ollama ? OllamaEndpoint(sim) : OpenAIEndpoint(sim));

        var response = await registry.Resolve("sim-judge").Client.GetResponseAsync(Hello, cancellationToken: Ct);

        Assert.Contains("simulated", response.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal([429, 200], sim.Stats.Requests.Where(r => r.IsChat).Select(r => r.StatusCode));
        Assert.Equal(2, response.AdditionalProperties?[RetryingChatClient.AttemptsKey]);
        Assert.Equal((1, 0), (registry.Endpoints[0].Usage.Requests, registry.Endpoints[0].Usage.Failures));
    }

    [Theory]
    [InlineData(EndpointKind.Ollama, SimFaultKind.Status500)]
    [InlineData(EndpointKind.OpenAICompatible, SimFaultKind.Status500)]
    [InlineData(EndpointKind.Ollama, SimFaultKind.Status429)]
    [InlineData(EndpointKind.OpenAICompatible, SimFaultKind.Status429)]
    public async Task Streaming_RetriesBeforeTheFirstChunk_ThroughTheFullStack(EndpointKind kind, SimFaultKind fault)
    {
        // (Not DropConnection: SimBackend sends part of the stream before dropping it, and after the first chunk a
        // stream is deliberately not retried.)
        await using var sim = await StartAsync(o => o.RetryAfterSeconds = 0);
        sim.FailNextRequests(1, fault);
        var (registry, _) = Registry(FastRetry(), kind == EndpointKind.Ollama ? OllamaEndpoint(sim) : OpenAIEndpoint(sim));

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in registry.Resolve("sim-judge").Client.GetStreamingResponseAsync(Hello, cancellationToken: Ct)) updates.Add(update);
        var response = updates.ToChatResponse();

        Assert.Contains("simulated", response.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(2, sim.Stats.Requests.Count(r => r.IsChat));
        Assert.Equal(2, updates[0].AdditionalProperties?[RetryingChatClient.AttemptsKey]);
        Assert.Equal(0, registry.Endpoints[0].Outstanding);
    }

    [Theory]
    [InlineData(EndpointKind.Ollama)]
    [InlineData(EndpointKind.OpenAICompatible)]
    public async Task Streaming_TimesOut_ThroughTheFullStack_WithAClearMessage(EndpointKind kind)
    {
        await using var sim = await StartAsync();
        sim.FailNextRequests(10, SimFaultKind.Timeout);
        var (registry, _) = Registry(FastRetry(maxRetries: 1), kind == EndpointKind.Ollama ? OllamaEndpoint(sim, "slow", timeoutSeconds: 1) : OpenAIEndpoint(sim, "slow", timeoutSeconds: 1));

        var ex = await Assert.ThrowsAsync<InferenceException>(async () =>
        {
            await foreach (var _ in registry.Resolve("sim-judge").Client.GetStreamingResponseAsync(Hello, cancellationToken: Ct))
            {
            }
        });

        Assert.Contains("'slow'", ex.Message);
        Assert.Contains("request timeout of 1 s", ex.Message);
        Assert.True(ex.Transient);
        Assert.Equal(2, sim.Stats.Requests.Count(r => r.IsChat));
        Assert.Equal(0, registry.Find("slow")!.Outstanding);
        Assert.Equal(0, registry.Find("slow")!.Limiter.InUse);
    }

    [Theory]
    [InlineData(EndpointKind.Ollama)]
    [InlineData(EndpointKind.OpenAICompatible)]
    public async Task Streaming_CallerCancellation_LeavesNothingOutstanding(EndpointKind kind)
    {
        await using var sim = await StartAsync();
        sim.HoldChatRequests();
        var (registry, _) = Registry(FastRetry(), kind == EndpointKind.Ollama ? OllamaEndpoint(sim, "box") : OpenAIEndpoint(sim, "box"));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var consume = Task.Run(async () =>
        {
            await foreach (var _ in registry.Resolve("sim-judge").Client.GetStreamingResponseAsync(Hello, cancellationToken: cancel.Token))
            {
            }
        }, Ct);
        // Recorded once its body is read, then held: the request has reached the server.
        await WaitUntil(() => sim.Stats.Requests.Any(r => r.IsChat));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consume);
        sim.ReleaseChatRequests();
        var box = registry.Find("box")!;
        Assert.Equal(0, box.Outstanding);
        Assert.Equal(0, box.Limiter.InUse);
        Assert.Equal(1, sim.Stats.Requests.Count(r => r.IsChat));
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(20)) throw new TimeoutException("condition not reached");
            await Task.Delay(10, Ct);
        }
    }
}
