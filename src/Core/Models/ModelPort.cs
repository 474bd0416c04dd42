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

/// <summary>One completion among the choices of a request.</summary>
/// <param name="Index">Choice index within the request (0-based).</param>
/// <param name="Text">The completion's text.</param>
/// <param name="FinishReason">Why generation stopped, if the server said.</param>
public sealed record ChatChoice(int Index, string Text, string? FinishReason);

/// <summary>
/// Several completions of one prompt in one request (<c>n</c>), through <see cref="IChatClient"/>, which by itself
/// exposes only the first choice. The inference layer reads <see cref="CountKey"/> from
/// <see cref="ChatOptions.AdditionalProperties"/>, sends it as <c>n</c> to endpoints that accept it
/// (<see cref="ModelCapabilities.AcceptsN"/>), and puts every choice's text and finish reason into the response's
/// additional properties under <see cref="TextsKey"/> (<c>string[]</c>) and <see cref="FinishReasonsKey"/>
/// (<c>string?[]</c>). Only ask for <c>n</c> &gt; 1 when the model's capabilities accept it.
/// </summary>
public static class ChatChoices
{
    /// <summary>Key of the number of choices to request (<c>int</c>) in <see cref="ChatOptions.AdditionalProperties"/>.</summary>
    public const string CountKey = "selftaught.n";

    /// <summary>Key of every choice's text (<c>string[]</c>, by choice index) in <see cref="ChatResponse.AdditionalProperties"/>.</summary>
    public const string TextsKey = "selftaught.choice_texts";

    /// <summary>Key of every choice's finish reason (<c>string?[]</c>, by choice index) in <see cref="ChatResponse.AdditionalProperties"/>.</summary>
    public const string FinishReasonsKey = "selftaught.choice_finish_reasons";

    /// <summary>A copy of <paramref name="options"/> that asks for <paramref name="count"/> choices (1 leaves the request as it is).</summary>
    public static ChatOptions WithCount(ChatOptions options, int count)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var result = options.Clone();
        if (count == 1) return result;
        result.AdditionalProperties = result.AdditionalProperties?.Clone() ?? [];
        result.AdditionalProperties[CountKey] = count;
        return result;
    }

    /// <summary>Every choice of <paramref name="response"/>: those the inference layer recorded, else the one response.</summary>
    public static IReadOnlyList<ChatChoice> Read(ChatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.AdditionalProperties?.TryGetValue(TextsKey, out var value) == true && value is string[] { Length: > 0 } texts)
        {
            var reasons = response.AdditionalProperties.TryGetValue(FinishReasonsKey, out var r) ? r as string?[] : null;
            return texts.Select((text, i) => new ChatChoice(i, text, reasons is not null && i < reasons.Length ? reasons[i] : null)).ToList();
        }
        return [new ChatChoice(0, response.Text, response.FinishReason?.Value)];
    }
}

/// <summary>Who a model is, as an evaluation records it.</summary>
/// <param name="Model">The model name asked for.</param>
/// <param name="Digest">Ollama's <c>digest</c> from <c>/api/tags</c>, or the id an OpenAI-compatible server lists in <c>/v1/models</c>; null when the server did not list the model.</param>
/// <param name="Endpoint">The endpoint that was asked.</param>
/// <param name="Note">Why there is no digest, when there is none.</param>
public sealed record ModelIdentity(string Model, string? Digest, string? Endpoint, string? Note = null);

/// <summary>Asks the server(s) of a model who it is: Ollama's model digest, or the served model id.</summary>
public interface IModelIdentifier
{
    /// <summary>Identifies <paramref name="model"/> by asking an endpoint that serves it. Never throws for what a server answers.</summary>
    Task<ModelIdentity> IdentifyAsync(ModelReference model, CancellationToken cancellationToken);
}
