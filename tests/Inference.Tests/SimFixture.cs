using Microsoft.Extensions.Logging.Abstractions;
using SelfTaught.SimBackend;

namespace SelfTaught.Inference.Tests;

/// <summary>Builds registries over SimBackend servers on loopback, as the app builds them over real servers.</summary>
internal static class Sim
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Fast retries so failure tests stay quick; the policy is otherwise the production one.</summary>
    public static RetryOptions FastRetry(int maxRetries = 3) => new() { MaxRetries = maxRetries, BaseDelayMs = 10, MaxDelayMs = 50, MaxRetryAfterSeconds = 5 };

    public static Task<SimServer> StartAsync(Action<SimOptions>? configure = null)
    {
        var options = new SimOptions();
        configure?.Invoke(options);
        return SimServer.StartAsync(options, Ct);
    }

    public static EndpointOptions OllamaEndpoint(SimServer sim, string name = "sim-ollama", int maxConcurrent = 4, int timeoutSeconds = 30) => new()
    {
        Name = name, Kind = EndpointKind.Ollama, BaseUrl = sim.BaseUri, DefaultModel = "sim-judge",
        MaxConcurrentRequests = maxConcurrent, RequestTimeoutSeconds = timeoutSeconds,
    };

    public static EndpointOptions OpenAIEndpoint(SimServer sim, string name = "sim-openai", int maxConcurrent = 4, int timeoutSeconds = 30) => new()
    {
        Name = name, Kind = EndpointKind.OpenAICompatible, BaseUrl = sim.OpenAIBaseUri.ToString(), DefaultModel = "sim-judge",
        MaxConcurrentRequests = maxConcurrent, RequestTimeoutSeconds = timeoutSeconds,
    };

    public static (EndpointRegistry Registry, EndpointHealthChecker Checker) Registry(RetryOptions? retry, params EndpointOptions[] endpoints) =>
        Registry(new InferenceOptions { Endpoints = [.. endpoints], Retry = retry ?? FastRetry(), HealthCheckTimeoutSeconds = 5 });

    /// <summary>A registry over <paramref name="options"/>; <paramref name="configuration"/> stands in for the app's configuration (API keys).</summary>
    public static (EndpointRegistry Registry, EndpointHealthChecker Checker) Registry(InferenceOptions options, IReadOnlyDictionary<string, string>? configuration = null)
    {
        var factory = new ChatClientFactory(options, NullLoggerFactory.Instance, key => configuration?.GetValueOrDefault(key));
        var registry = new EndpointRegistry(options, factory);
        return (registry, new EndpointHealthChecker(registry, options, TimeProvider.System));
    }
}
