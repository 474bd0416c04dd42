using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace SelfTaught.Inference;

/// <summary>
/// Probes endpoints — Ollama: <c>/api/version</c> and <c>/api/tags</c> (models with digests); OpenAI-compatible:
/// <c>/v1/models</c>, plus a one-time <c>n</c> = 2 probe when "accepts n" is not configured — and runs test chats.
/// </summary>
public sealed class EndpointHealthChecker(EndpointRegistry registry, InferenceOptions options, TimeProvider time)
{
    /// <summary>Checks one endpoint and stores the result on it.</summary>
    public async Task<HealthSnapshot> CheckAsync(EndpointState endpoint, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.HealthCheckTimeoutSeconds));
        var clock = Stopwatch.StartNew();
        HealthSnapshot snapshot;
        try
        {
            snapshot = endpoint.Options.Kind switch
            {
                EndpointKind.Ollama => await CheckOllama(endpoint, timeout.Token),
                _ => await CheckOpenAI(endpoint, timeout.Token),
            };
            snapshot = snapshot with { LatencyMs = (int)clock.ElapsedMilliseconds, CheckedAt = time.GetUtcNow().UtcDateTime };
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or NotSupportedException
                                       || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var problem = ex is OperationCanceledException ? $"no answer within {options.HealthCheckTimeoutSeconds} s" : ex.Message;
            snapshot = endpoint.Health with
            {
                State = EndpointHealth.Unhealthy, LatencyMs = (int)clock.ElapsedMilliseconds,
                CheckedAt = time.GetUtcNow().UtcDateTime, Error = problem,
            };
        }
        endpoint.SetHealth(snapshot);
        return snapshot;
    }

    /// <summary>Checks every endpoint concurrently.</summary>
    public Task CheckAllAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(registry.Endpoints.Select(e => CheckAsync(e, cancellationToken)));

    /// <summary>A tiny chat through the full middleware stack.</summary>
    public async Task<TestChatResult> TestChatAsync(EndpointState endpoint, string? model, CancellationToken cancellationToken)
    {
        model ??= endpoint.Options.DefaultModel ?? endpoint.Health.Models.FirstOrDefault()?.Name;
        if (model is null)
            return new TestChatResult(false, null, null, null, null, null,
                $"Endpoint '{endpoint.Name}' has no default model and lists none: name a model to test.");
        try
        {
            var response = await registry.ClientFor(endpoint, model).GetResponseAsync(
                [new ChatMessage(ChatRole.User, "Reply with the single word OK.")],
                new ChatOptions { Temperature = 0, MaxOutputTokens = 16 }, cancellationToken);
            var latency = response.AdditionalProperties?.TryGetValue(Middleware.EndpointCallChatClient.LatencyMsKey, out var ms) == true ? (int?)ms : null;
            return new TestChatResult(true, model, response.Text, latency, response.Usage?.InputTokenCount, response.Usage?.OutputTokenCount, null);
        }
        catch (InferenceException ex)
        {
            return new TestChatResult(false, model, null, null, null, null, ex.Message);
        }
    }

    private static async Task<HealthSnapshot> CheckOllama(EndpointState endpoint, CancellationToken cancellationToken)
    {
        var version = await endpoint.Http.GetFromJsonAsync<JsonElement>("api/version", cancellationToken);
        var tags = await endpoint.Http.GetFromJsonAsync<JsonElement>("api/tags", cancellationToken);
        var models = tags.GetProperty("models").EnumerateArray()
            .Select(m => new ServedModel(m.GetProperty("name").GetString()!, m.TryGetProperty("digest", out var d) ? d.GetString() : null))
            .ToList();
        return new HealthSnapshot(EndpointHealth.Healthy, null, null, null, models, false,
            version.TryGetProperty("version", out var v) ? v.GetString() : null);
    }

    private static async Task<HealthSnapshot> CheckOpenAI(EndpointState endpoint, CancellationToken cancellationToken)
    {
        var list = await endpoint.Http.GetFromJsonAsync<JsonElement>("models", cancellationToken);
        var models = list.GetProperty("data").EnumerateArray()
            .Select(m => new ServedModel(m.GetProperty("id").GetString()!, m.GetProperty("id").GetString()))
            .ToList();
        var acceptsN = endpoint.Options.AcceptsN ?? endpoint.Health.AcceptsN;
        if (acceptsN is null && (endpoint.Options.DefaultModel ?? models.FirstOrDefault()?.Name) is { } model)
            acceptsN = await ProbeN(endpoint, model, cancellationToken);
        return new HealthSnapshot(EndpointHealth.Healthy, null, null, null, models, acceptsN);
    }

    // llama.cpp's server answers 500 to n > 1 and some servers ignore n: only two distinct choices count as support.
    private static async Task<bool> ProbeN(EndpointState endpoint, string model, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await endpoint.Http.PostAsJsonAsync("chat/completions", new
            {
                model,
                messages = new[] { new { role = "user", content = "Say OK." } },
                max_tokens = 1,
                n = 2,
            }, cancellationToken);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            return body.TryGetProperty("choices", out var choices) && choices.GetArrayLength() == 2;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}

/// <summary>Outcome of a test chat.</summary>
public sealed record TestChatResult(bool Ok, string? Model, string? Text, int? LatencyMs, long? PromptTokens, long? CompletionTokens, string? Error);
