using Microsoft.Extensions.AI;

namespace SelfTaught.Core.Models;

/// <summary>A model to call: its name and, optionally, the endpoint that must serve it.</summary>
/// <param name="Model">Model name as the server knows it, e.g. <c>llama3.1:70b</c>.</param>
/// <param name="Endpoint">Endpoint name; null lets the model's endpoints share the load.</param>
public sealed record ModelReference(string Model, string? Endpoint = null)
{
    /// <inheritdoc />
    public override string ToString() => Endpoint is null ? Model : $"{Model} @ {Endpoint}";
}

/// <summary>What the endpoint(s) behind a resolved model can do.</summary>
/// <param name="AcceptsN">Whether one request may ask for several choices (<c>n</c> &gt; 1); false for Ollama and llama.cpp's server.</param>
/// <param name="MaxConcurrentRequests">Requests in flight at once across the endpoints, the useful parallelism for a stage.</param>
/// <param name="Endpoints">Names of the endpoints requests may go to.</param>
public sealed record ModelCapabilities(bool AcceptsN, int MaxConcurrentRequests, IReadOnlyList<string> Endpoints);

/// <summary>A chat client for a model, with its capabilities.</summary>
public sealed record ResolvedModel(IChatClient Client, ModelCapabilities Capabilities);

/// <summary>
/// The one port Core uses to reach a model. The composition root implements it over the inference layer's endpoint
/// registry; the client it returns already limits concurrency, retries, times out and records usage.
/// </summary>
public interface IModelResolver
{
    /// <summary>Resolves <paramref name="model"/>.</summary>
    /// <exception cref="ModelResolutionException">No enabled endpoint serves the model, or the named endpoint does not exist.</exception>
    ResolvedModel Resolve(ModelReference model);
}

/// <summary>A model reference that cannot be served; the message names the model and the endpoints considered.</summary>
public sealed class ModelResolutionException(string message) : Exception(message);

/// <summary>Usage of one model call, as callers store it with each record.</summary>
/// <param name="PromptTokens">Input tokens reported by the server.</param>
/// <param name="CompletionTokens">Output tokens reported by the server.</param>
/// <param name="LatencyMs">Wall time of the call including retries, in milliseconds.</param>
/// <param name="Model">Model id the server answered with.</param>
/// <param name="FinishReason">Why generation stopped (<c>stop</c>, <c>length</c>, ...).</param>
/// <param name="Endpoint">Endpoint that served the call.</param>
public sealed record CallUsage(int? PromptTokens, int? CompletionTokens, int? LatencyMs, string? Model, string? FinishReason, string? Endpoint)
{
    /// <summary>Key of the latency (ms, int) in <see cref="ChatResponse.AdditionalProperties"/>, set by the inference layer.</summary>
    public const string LatencyMsKey = "selftaught.latency_ms";

    /// <summary>Key of the serving endpoint's name in <see cref="ChatResponse.AdditionalProperties"/>.</summary>
    public const string EndpointKey = "selftaught.endpoint";

    /// <summary>Reads usage from a response produced through the inference layer.</summary>
    public static CallUsage From(ChatResponse response)
    {
        var properties = response.AdditionalProperties;
        return new CallUsage(
            ToInt(response.Usage?.InputTokenCount),
            ToInt(response.Usage?.OutputTokenCount),
            properties?.TryGetValue(LatencyMsKey, out var latency) == true ? Convert.ToInt32(latency, System.Globalization.CultureInfo.InvariantCulture) : null,
            response.ModelId,
            response.FinishReason?.Value,
            properties?.TryGetValue(EndpointKey, out var endpoint) == true ? endpoint as string : null);
    }

    private static int? ToInt(long? value) => value is null ? null : (int)Math.Min(value.Value, int.MaxValue);
}
