using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OllamaSharp;
using OpenAI;
using SelfTaught.Inference.Middleware;

namespace SelfTaught.Inference;

/// <summary>Builds the chat client for an endpoint and model: the one place that switches on the endpoint kind.</summary>
public sealed class ChatClientFactory(InferenceOptions options, ILoggerFactory loggerFactory, Func<string, string?> secrets)
{
    /// <summary>ActivitySource / Meter name of the OpenTelemetry instrumentation.</summary>
    public const string TelemetrySourceName = "SelfTaught.Inference";

    /// <summary>The raw client library speaking the endpoint's protocol, without middleware.</summary>
    public static IChatClient CreateProtocolClient(EndpointOptions endpoint, HttpClient http, string model, string? apiKey) => endpoint.Kind switch
    {
        EndpointKind.Ollama => new OllamaApiClient(http, model),
        EndpointKind.OpenAICompatible => new OpenAIClient(
                new ApiKeyCredential(apiKey ?? "not-needed"),
                new OpenAIClientOptions
                {
                    Endpoint = new Uri(endpoint.BaseUrl),
                    // Our middleware retries; the client's own three retries would multiply attempts and hide Retry-After.
                    RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                    // The per-request timeout lives in our middleware; the client default of 100 s is too short for local models.
                    NetworkTimeout = Timeout.InfiniteTimeSpan,
                    Transport = new HttpClientPipelineTransport(http),
                })
            .GetChatClient(model)
            .AsIChatClient(),
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint.Kind, "Unknown endpoint kind."),
    };

    /// <summary>The protocol client wrapped in the full middleware stack, outermost first.</summary>
    public IChatClient Create(EndpointState endpoint, string model) =>
        new ChatClientBuilder(CreateProtocolClient(endpoint.Options, endpoint.Http, model, ApiKey(endpoint.Options)))
            .UseEndpointCall(endpoint, model)
            .UseOpenTelemetry(loggerFactory, TelemetrySourceName)
            .UseRetry(options.Retry)
            .UseConcurrencyLimit(endpoint.Limiter)
            .UseRequestTimeout(TimeSpan.FromSeconds(endpoint.Options.RequestTimeoutSeconds))
            .UseSamplingDefaults(options.DefaultMaxTokens, endpoint.Options.Kind == EndpointKind.Ollama ? endpoint.Options.NumCtx : null)
            .Build();

    /// <summary>An HTTP client for an endpoint: no client-side timeout (middleware owns it) and failures translated for retries.</summary>
    public HttpClient CreateHttpClient(EndpointOptions endpoint)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
        };
        var http = new HttpClient(new FailureTranslatingHandler(handler)) { Timeout = Timeout.InfiniteTimeSpan };
        // OllamaSharp resolves its routes ("api/chat") against BaseAddress; a trailing slash keeps any path prefix.
        http.BaseAddress = new Uri(endpoint.BaseUrl.EndsWith('/') ? endpoint.BaseUrl : endpoint.BaseUrl + "/");
        if (endpoint.Kind == EndpointKind.Ollama && ApiKey(endpoint) is { } key)
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>The API key named by the endpoint's reference (a configuration key such as a user secret, or an environment variable); never logged.</summary>
    public string? ApiKey(EndpointOptions endpoint) =>
        endpoint.ApiKeyReference is { } name ? secrets(name) ?? Environment.GetEnvironmentVariable(name) : null;
}
