using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OllamaSharp;
using OpenAI;
using SelfTaught.Inference.Middleware;

namespace SelfTaught.Inference;

/// <summary>Builds the chat client for an endpoint and model: the one place that switches on the endpoint kind.</summary>
/// <param name="options">Retry policy and defaults.</param>
/// <param name="loggerFactory">For the OpenTelemetry middleware.</param>
/// <param name="configuration">Reads a configuration key (API key references of the form <c>Inference:ApiKeys:&lt;name&gt;</c>).</param>
public sealed class ChatClientFactory(InferenceOptions options, ILoggerFactory loggerFactory, Func<string, string?> configuration)
{
    /// <summary>ActivitySource / Meter name of the OpenTelemetry instrumentation.</summary>
    public const string TelemetrySourceName = "SelfTaught.Inference";

    /// <summary>How long establishing a TCP connection may take before the attempt fails (and is retried).</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

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
    /// <param name="endpoint">The endpoint; its current settings are read once.</param>
    /// <param name="model">Model to call.</param>
    /// <param name="retry">Retry policy; default <see cref="InferenceOptions.Retry"/>.</param>
    public IChatClient Create(EndpointState endpoint, string model, RetryOptions? retry = null)
    {
        var settings = endpoint.Options;
        var builder = new ChatClientBuilder(CreateProtocolClient(settings, endpoint.Http, model, ApiKey(settings)))
            // First: a batch the endpoint cannot serve is refused before it takes a slot or counts as a request.
            .UseChoicesGate(endpoint, model)
            .UseEndpointCall(endpoint, model)
            .UseOpenTelemetry(loggerFactory, TelemetrySourceName)
            .UseRetry(retry ?? options.Retry)
            .UseConcurrencyLimit(endpoint.Limiter)
            .UseRequestTimeout(TimeSpan.FromSeconds(settings.RequestTimeoutSeconds))
            .UseSamplingDefaults(options.DefaultMaxTokens, settings.Kind == EndpointKind.Ollama ? settings.NumCtx : null);
        // Innermost: n and max_tokens patch the same OpenAI options (each chains the other's factory), and the choices
        // are read from the raw completion before anything else touches the response.
        if (settings.Kind == EndpointKind.OpenAICompatible) builder.UseMaxTokensField(settings.MaxTokensField).UseChoices();
        return builder.Build();
    }

    /// <summary>
    /// An HTTP client for an endpoint: no client-side timeout (middleware owns it), failures translated for retries,
    /// and the API key as default <c>Authorization: Bearer</c> header, so health checks and probes authenticate too
    /// (the OpenAI client sets the same header on each chat request, which takes precedence).
    /// </summary>
    public HttpClient CreateHttpClient(EndpointOptions endpoint)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = ConnectTimeout,
        };
        var http = new HttpClient(new FailureTranslatingHandler(handler)) { Timeout = Timeout.InfiniteTimeSpan };
        // OllamaSharp resolves its routes ("api/chat") against BaseAddress; a trailing slash keeps any path prefix.
        http.BaseAddress = new Uri(endpoint.BaseUrl.EndsWith('/') ? endpoint.BaseUrl : endpoint.BaseUrl + "/");
        if (ApiKey(endpoint) is { Length: > 0 } key)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    /// <summary>
    /// The API key the endpoint's reference points to: a configuration key <c>Inference:ApiKeys:&lt;name&gt;</c> is read
    /// from configuration, an environment variable name (<c>…_API_KEY</c>, <c>…_TOKEN</c>) from the environment; any
    /// other reference yields nothing. Never logged.
    /// </summary>
    public string? ApiKey(EndpointOptions endpoint) => endpoint.ApiKeyReference switch
    {
        null => null,
        var reference when ApiKeyReferences.IsConfigurationKey(reference) => configuration(reference),
        var reference when ApiKeyReferences.IsEnvironmentVariable(reference) => Environment.GetEnvironmentVariable(reference),
        _ => null,
    };
}
