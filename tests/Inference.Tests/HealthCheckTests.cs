using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using SelfTaught.SimBackend;
using static SelfTaught.Inference.Tests.Sim;

namespace SelfTaught.Inference.Tests;

/// <summary>Health checks, the <c>n</c> probe and test chats: robust against whatever a server answers.</summary>
public class HealthCheckTests
{
    private static readonly ChatMessage[] Hello = [new(ChatRole.User, "Say hello.")];

    [Theory]
    [InlineData(EndpointKind.OpenAICompatible, "/v1/models", """{"object":"list"}""", "unexpected answer from /v1/models", "\"data\" array")]
    [InlineData(EndpointKind.OpenAICompatible, "/v1/models", """{"object":"list","data":[{"object":"model"}]}""", "unexpected answer from /v1/models", "\"id\" string")]
    [InlineData(EndpointKind.OpenAICompatible, "/v1/models", "<html>Bad Gateway</html>", "unexpected answer from /v1/models", "not JSON")]
    [InlineData(EndpointKind.Ollama, "/api/version", """["0.11.4"]""", "unexpected answer from /api/version", "expected a JSON object")]
    [InlineData(EndpointKind.Ollama, "/api/tags", """{"models":{"name":"x"}}""", "unexpected answer from /api/tags", "\"models\" array")]
    public async Task CheckAsync_ReportsUnhealthyWithAClearError_WhenTheServerAnswersInAnotherShape(
        EndpointKind kind, string path, string body, string expected, string detail)
    {
        await using var stub = await StubServer.StartAsync(new Dictionary<string, (int, string)>
        {
            ["/api/version"] = (200, """{"version":"0.11.4"}"""),
            ["/api/tags"] = (200, """{"models":[]}"""),
            [path] = (200, body),
        }, Ct);
        var (registry, checker) = Registry(null, new EndpointOptions
        {
            Name = "odd", Kind = kind, BaseUrl = kind == EndpointKind.Ollama ? stub.BaseUri : stub.BaseUri + "/v1",
        });

        var snapshot = await checker.CheckAsync(registry.Find("odd")!, Ct);

        Assert.Equal(EndpointHealth.Unhealthy, snapshot.State);
        Assert.Contains(expected, snapshot.Error);
        Assert.Contains(detail, snapshot.Error);
        Assert.Same(snapshot, registry.Find("odd")!.Health);
    }

    [Fact]
    public async Task CheckAsync_ThrowsOnlyForTheCallersCancellation()
    {
        await using var stub = await StubServer.StartAsync(new Dictionary<string, (int, string)> { ["/v1/models"] = (200, """{"data":[]}""") }, Ct);
        var (registry, checker) = Registry(null, new EndpointOptions { Name = "s", Kind = EndpointKind.OpenAICompatible, BaseUrl = stub.BaseUri + "/v1" });
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => checker.CheckAsync(registry.Find("s")!, cancelled.Token));
    }

    [Fact]
    public async Task Monitor_KeepsChecking_WhenAnIterationThrows()
    {
        await using var sim = await StartAsync();
        var options = new InferenceOptions { Endpoints = [OpenAIEndpoint(sim, "watched")], Retry = FastRetry(), HealthCheckIntervalSeconds = 1 };
        var (registry, checker) = Registry(options);
        // Logging the first state change throws, as a broken log sink would.
        var logger = new ThrowOnceLogger<EndpointHealthMonitor>();
        using var monitor = new EndpointHealthMonitor(registry, checker, options, logger);

        await monitor.StartAsync(Ct);
        await ResilienceTests.WaitUntil(() => sim.Stats.RequestsTo(SimRoutes.OpenAIModels) >= 2);
        await monitor.StopAsync(Ct);

        Assert.True(logger.Threw);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error && e.Exception is InvalidOperationException);
        Assert.False(monitor.ExecuteTask!.IsFaulted);
        Assert.Equal(EndpointHealth.Healthy, registry.Find("watched")!.Health.State);
    }

    [Theory]
    [InlineData(EndpointKind.Ollama, false)]
    [InlineData(EndpointKind.OpenAICompatible, false)]
    [InlineData(EndpointKind.Ollama, true)]
    [InlineData(EndpointKind.OpenAICompatible, true)]
    public async Task ApiKey_IsSentOnHealthChecksProbesAndChats(EndpointKind kind, bool fromEnvironment)
    {
        const string secret = "sk-sim-5ee1c0de";
        await using var sim = await StartAsync(o => o.RequiredApiKey = secret);
        var variable = $"SELFTAUGHT_TEST_{Guid.NewGuid():N}_API_KEY".ToUpperInvariant();
        var endpoint = kind == EndpointKind.Ollama ? OllamaEndpoint(sim, "keyed") : OpenAIEndpoint(sim, "keyed");
        endpoint.ApiKeyReference = fromEnvironment ? variable : "Inference:ApiKeys:Keyed";
        if (fromEnvironment) Environment.SetEnvironmentVariable(variable, secret);
        try
        {
            var (registry, checker) = Registry(new InferenceOptions { Endpoints = [endpoint], Retry = FastRetry(0) },
                new Dictionary<string, string> { ["Inference:ApiKeys:Keyed"] = secret });

            var health = await checker.CheckAsync(registry.Find("keyed")!, Ct);
            var response = await registry.Resolve("sim-judge").Client.GetResponseAsync(Hello, cancellationToken: Ct);

            Assert.Equal(EndpointHealth.Healthy, health.State);
            Assert.Null(health.Error);
            Assert.Contains(health.Models, m => m.Name.StartsWith("sim-judge", StringComparison.Ordinal));
            Assert.Contains("simulated", response.Text, StringComparison.OrdinalIgnoreCase);
            if (kind == EndpointKind.OpenAICompatible) Assert.True(registry.Find("keyed")!.AcceptsN);
            var authenticated = sim.Stats.Requests.Where(r => r.Route != SimRoutes.OllamaVersion).ToList();
            Assert.NotEmpty(authenticated);
            Assert.All(authenticated, r => Assert.Equal($"Bearer {secret}", r.Authorization));
            Assert.All(authenticated, r => Assert.Equal(200, r.StatusCode));
        }
        finally
        {
            if (fromEnvironment) Environment.SetEnvironmentVariable(variable, null);
        }
    }

    public enum ProbeCase
    {
        Supported,
        Reject500,
        ModelNotFound404,
        RateLimited429,
        Other500,
        Timeout,
        InvalidJson,
        DroppedConnection,
    }

    [Theory]
    [InlineData(ProbeCase.Supported, true)]
    [InlineData(ProbeCase.Reject500, false)]
    [InlineData(ProbeCase.ModelNotFound404, false)]
    [InlineData(ProbeCase.RateLimited429, null)]
    [InlineData(ProbeCase.Other500, null)]
    [InlineData(ProbeCase.Timeout, null)]
    [InlineData(ProbeCase.InvalidJson, null)]
    [InlineData(ProbeCase.DroppedConnection, null)]
    public async Task ProbeN_IsTrueFalseOrUndecided_AndNeverMakesTheEndpointUnhealthy(ProbeCase probe, bool? expected)
    {
        await using var sim = await StartAsync(o => o.NMode = probe == ProbeCase.Reject500 ? SimNMode.Reject500 : SimNMode.Supported);
        var endpoint = OpenAIEndpoint(sim, "vllm");
        if (probe == ProbeCase.ModelNotFound404) endpoint.DefaultModel = "not-served";
        SimFaultKind? fault = probe switch
        {
            ProbeCase.RateLimited429 => SimFaultKind.Status429,
            ProbeCase.Other500 => SimFaultKind.Status500,
            ProbeCase.Timeout => SimFaultKind.Timeout,
            ProbeCase.InvalidJson => SimFaultKind.InvalidJson,
            ProbeCase.DroppedConnection => SimFaultKind.DropConnection,
            _ => null,
        };
        if (fault is { } kind) sim.FailNextRequests(1, kind);
        var (registry, checker) = Registry(new InferenceOptions { Endpoints = [endpoint], Retry = FastRetry(), HealthCheckTimeoutSeconds = 1 });
        var state = registry.Find("vllm")!;

        var first = await checker.CheckAsync(state, Ct);
        var second = await checker.CheckAsync(state, Ct);

        Assert.Equal(EndpointHealth.Healthy, first.State);
        Assert.Null(first.Error);
        Assert.NotEmpty(first.Models);
        Assert.Equal(expected, first.AcceptsN);
        var probes = sim.Stats.Requests.Count(r => r.IsChat && r.N == 2);
        if (expected is null)
        {
            // Undecided: probed again at the next check, which (without the fault) decides.
            Assert.Equal(2, probes);
            Assert.True(second.AcceptsN);
        }
        else
        {
            Assert.Equal(1, probes);
            Assert.Equal(expected, second.AcceptsN);
        }
    }

    [Fact]
    public async Task ProbeN_WaitsForTheEndpointsLimiter_AndStaysUndecidedWhileItIsFull()
    {
        await using var sim = await StartAsync();
        var (registry, checker) = Registry(new InferenceOptions { Endpoints = [OpenAIEndpoint(sim, "busy", maxConcurrent: 1)], Retry = FastRetry(), HealthCheckTimeoutSeconds = 1 });
        var state = registry.Find("busy")!;
        sim.HoldChatRequests();
        var chat = registry.Resolve("sim-judge").Client.GetResponseAsync(Hello, cancellationToken: Ct);
        await sim.Stats.WaitForInFlightChatRequestsAsync(1, TimeSpan.FromSeconds(20), Ct);

        var whileFull = await checker.CheckAsync(state, Ct);
        sim.ReleaseChatRequests();
        await chat;
        var afterwards = await checker.CheckAsync(state, Ct);

        Assert.Equal(EndpointHealth.Healthy, whileFull.State);
        Assert.Null(whileFull.AcceptsN);
        Assert.Equal(1, sim.Stats.MaxConcurrentChatRequests);
        Assert.True(afterwards.AcceptsN);
        Assert.Equal(1, sim.Stats.Requests.Count(r => r.IsChat && r.N == 2));
    }

    [Fact]
    public async Task TestChat_RetriesOnceAtMost_AndReportsATimeoutAsAResult()
    {
        await using var sim = await StartAsync();
        sim.FailNextRequests(10, SimFaultKind.Timeout);
        var (registry, checker) = Registry(FastRetry(maxRetries: 4), OllamaEndpoint(sim, "slow-box", timeoutSeconds: 1));

        var result = await checker.TestChatAsync(registry.Find("slow-box")!, null, Ct);

        Assert.False(result.Ok);
        Assert.Contains("'slow-box'", result.Error);
        Assert.Contains("request timeout of 1 s", result.Error);
        Assert.Equal(2, sim.Stats.Requests.Count(r => r.IsChat));
        Assert.Equal(0, registry.Find("slow-box")!.Outstanding);
    }

    [Fact]
    public async Task TestChat_ReportsItsDeadline_AsAResultNamingTheEndpoint()
    {
        await using var sim = await StartAsync();
        sim.FailNextRequests(10, SimFaultKind.Timeout);
        var options = new InferenceOptions { Endpoints = [OpenAIEndpoint(sim, "hanging", timeoutSeconds: 600)], Retry = FastRetry() };
        var (registry, _) = Registry(options);
        var checker = new EndpointHealthChecker(registry, options, TimeProvider.System) { TestChatDeadline = TimeSpan.FromSeconds(1) };

        var result = await checker.TestChatAsync(registry.Find("hanging")!, null, Ct);

        Assert.False(result.Ok);
        Assert.Contains("'hanging'", result.Error);
        Assert.Contains("within the test chat's 1 s", result.Error);
        Assert.Equal(1, sim.Stats.Requests.Count(r => r.IsChat));
    }

    [Fact]
    public async Task TestChat_ReportsARetiredEndpoint_AsAResult()
    {
        await using var sim = await StartAsync();
        var (registry, checker) = Registry(new InferenceOptions { Retry = FastRetry() });
        registry.SetStoredEndpoints([OllamaEndpoint(sim, "box")]);
        var before = registry.Find("box")!;
        registry.SetStoredEndpoints([OpenAIEndpoint(sim, "box")]);

        var result = await checker.TestChatAsync(before, null, Ct);

        Assert.False(result.Ok);
        Assert.Contains("'box'", result.Error);
        Assert.Contains("changed or removed", result.Error);
    }

    [Fact]
    public async Task TestChat_Throws_OnlyWhenTheCallerCancels()
    {
        await using var sim = await StartAsync();
        var (registry, checker) = Registry(FastRetry(), OllamaEndpoint(sim, "box"));
        sim.HoldChatRequests();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var test = checker.TestChatAsync(registry.Find("box")!, null, cancel.Token);
        await sim.Stats.WaitForInFlightChatRequestsAsync(1, TimeSpan.FromSeconds(20), Ct);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => test);
        Assert.Equal(0, registry.Find("box")!.Outstanding);
    }

    private sealed class ThrowOnceLogger<T> : ILogger<T>
    {
        private int _threw;

        public bool Threw => _threw != 0;

        public System.Collections.Concurrent.ConcurrentQueue<(LogLevel Level, Exception? Exception)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Entries.Enqueue((logLevel, exception));
            if (logLevel < LogLevel.Error && Interlocked.Exchange(ref _threw, 1) == 0) throw new InvalidOperationException("log sink failed");
        }
    }
}
