using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.AI;
using SelfTaught.Inference.Middleware;

namespace SelfTaught.Inference;

/// <summary>
/// Probes endpoints — Ollama: <c>/api/version</c> and <c>/api/tags</c> (models with digests); OpenAI-compatible:
/// <c>/v1/models</c>, plus an <c>n</c> = 2 probe until it gives a clear answer when "accepts n" is not configured —
/// and runs test chats. Never throws for what a server answers; only the caller's cancellation propagates.
/// </summary>
public sealed class EndpointHealthChecker(EndpointRegistry registry, InferenceOptions options, TimeProvider time)
{
    /// <summary>How long a test chat may take in all, retry included. Default: 45 s.</summary>
    public TimeSpan TestChatDeadline { get; init; } = TimeSpan.FromSeconds(45);

    // A test chat answers a person waiting at the Settings page: one retry at most, not the stage policy's long loop.
    private RetryOptions TestChatRetry => new()
    {
        MaxRetries = Math.Min(1, options.Retry.MaxRetries),
        BaseDelayMs = Math.Min(options.Retry.BaseDelayMs, 1000),
        MaxDelayMs = Math.Min(options.Retry.MaxDelayMs, 1000),
        MaxRetryAfterSeconds = Math.Min(options.Retry.MaxRetryAfterSeconds, 5),
    };

    /// <summary>Checks one endpoint and stores the result on it. Only <paramref name="cancellationToken"/> makes it throw.</summary>
    public async Task<HealthSnapshot> CheckAsync(EndpointState endpoint, CancellationToken cancellationToken)
    {
        // A retired endpoint (removed or replaced) is no longer checked; its HTTP client may be gone.
        if (!endpoint.TryAcquireLease()) return endpoint.Health;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.HealthCheckTimeoutSeconds));
            var clock = Stopwatch.StartNew();
            var probe = new Probe(clock);
            HealthSnapshot snapshot;
            try
            {
                snapshot = endpoint.Options.Kind switch
                {
                    EndpointKind.Ollama => await CheckOllama(endpoint, probe, timeout.Token),
                    _ => await CheckOpenAI(endpoint, probe, timeout.Token),
                };
                // A probe that was given up on because the caller cancelled must not look like a result.
                cancellationToken.ThrowIfCancellationRequested();
                // The latency of the listing, not of the n probe (a generation).
                snapshot = snapshot with { LatencyMs = probe.ListedAfterMs ?? (int)clock.ElapsedMilliseconds, CheckedAt = time.GetUtcNow().UtcDateTime };
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                snapshot = endpoint.Health with
                {
                    State = EndpointHealth.Unhealthy, LatencyMs = (int)clock.ElapsedMilliseconds,
                    CheckedAt = time.GetUtcNow().UtcDateTime, Error = Failure(ex, endpoint, probe.Route, timeout.IsCancellationRequested),
                };
            }
            endpoint.SetHealth(snapshot);
            return snapshot;
        }
        finally
        {
            endpoint.ReleaseLease();
        }
    }

    /// <summary>Checks every endpoint concurrently.</summary>
    public Task CheckAllAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(registry.Endpoints.Select(e => CheckAsync(e, cancellationToken)));

    /// <summary>
    /// A tiny chat through the full middleware stack, within <see cref="TestChatDeadline"/> and with at most one retry.
    /// Every failure becomes a result naming the endpoint; only <paramref name="cancellationToken"/> makes it throw.
    /// </summary>
    public async Task<TestChatResult> TestChatAsync(EndpointState endpoint, string? model, CancellationToken cancellationToken)
    {
        model ??= endpoint.Options.DefaultModel ?? endpoint.Health.Models.FirstOrDefault()?.Name;
        if (model is null)
            return Failed(null, $"Endpoint '{endpoint.Name}' has no default model and lists none: name a model to test.");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TestChatDeadline);
        try
        {
            // Built for this call, not cached: it carries the short retry policy. Not disposed: it does not own the
            // endpoint's HTTP client, and disposing OllamaSharp's client would dispose that.
            var client = registry.Factory.Create(endpoint, model, TestChatRetry);
            var response = await client.GetResponseAsync(
                [new ChatMessage(ChatRole.User, "Reply with the single word OK.")],
                new ChatOptions { Temperature = 0, MaxOutputTokens = 16 }, deadline.Token);
            var latency = response.AdditionalProperties?.TryGetValue(EndpointCallChatClient.LatencyMsKey, out var ms) == true ? ms as int? : null;
            return new TestChatResult(true, model, response.Text, latency, response.Usage?.InputTokenCount, response.Usage?.OutputTokenCount, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception) when (deadline.IsCancellationRequested)
        {
            return Failed(model, $"Endpoint '{endpoint.Name}' ({endpoint.Options.BaseUrl}), model '{model}': no answer within the test chat's {TestChatDeadline.TotalSeconds:0.#} s.");
        }
        catch (InferenceException ex)
        {
            return Failed(model, ex.Message);
        }
        catch (Exception ex)
        {
            return Failed(model, $"Endpoint '{endpoint.Name}' ({endpoint.Options.BaseUrl}), model '{model}': {EndpointCallChatClient.Problem(ex)}");
        }
    }

    private static TestChatResult Failed(string? model, string error) => new(false, model, null, null, null, null, error);

    private static async Task<HealthSnapshot> CheckOllama(EndpointState endpoint, Probe probe, CancellationToken cancellationToken)
    {
        var version = await GetJsonAsync(endpoint, "api/version", probe, cancellationToken);
        if (version.ValueKind != JsonValueKind.Object) throw Unexpected(probe.Route, "expected a JSON object", version);
        var tags = await GetJsonAsync(endpoint, "api/tags", probe, cancellationToken);
        if (tags.ValueKind != JsonValueKind.Object || !tags.TryGetProperty("models", out var list) || list.ValueKind != JsonValueKind.Array)
            throw Unexpected(probe.Route, "expected an object with a \"models\" array", tags);
        probe.Listed();
        var models = new List<ServedModel>();
        foreach (var m in list.EnumerateArray())
        {
            if (StringProperty(m, "name") is not { } name) throw Unexpected(probe.Route, "a model without a \"name\" string", m);
            models.Add(new ServedModel(name, StringProperty(m, "digest")));
        }
        return new HealthSnapshot(EndpointHealth.Healthy, null, null, null, models, false, StringProperty(version, "version"));
    }

    private static async Task<HealthSnapshot> CheckOpenAI(EndpointState endpoint, Probe probe, CancellationToken cancellationToken)
    {
        var answer = await GetJsonAsync(endpoint, "models", probe, cancellationToken);
        if (answer.ValueKind != JsonValueKind.Object || !answer.TryGetProperty("data", out var list) || list.ValueKind != JsonValueKind.Array)
            throw Unexpected(probe.Route, "expected an object with a \"data\" array", answer);
        probe.Listed();
        var models = new List<ServedModel>();
        foreach (var m in list.EnumerateArray())
        {
            if (StringProperty(m, "id") is not { } id) throw Unexpected(probe.Route, "a model without an \"id\" string", m);
            models.Add(new ServedModel(id, id));
        }
        var acceptsN = endpoint.Options.AcceptsN ?? endpoint.Health.AcceptsN;
        if (acceptsN is null && (endpoint.Options.DefaultModel ?? models.FirstOrDefault()?.Name) is { } model)
            acceptsN = await ProbeN(endpoint, model, cancellationToken);
        return new HealthSnapshot(EndpointHealth.Healthy, null, null, null, models, acceptsN);
    }

    /// <summary>
    /// Whether the server returns two choices for <c>n</c> = 2: true only for a success with two choices; false for a
    /// clear refusal (4xx, or llama.cpp's 500 "Only one completion choice is allowed") or a chat answer with another
    /// number of choices (the server ignores <c>n</c>); null — probe again at the next check — for anything transient.
    /// Never fails the health check, and waits for a slot of the endpoint's limiter like any request.
    /// </summary>
    private static async Task<bool?> ProbeN(EndpointState endpoint, string model, CancellationToken cancellationToken)
    {
        try
        {
            await endpoint.Limiter.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        try
        {
            using var response = await endpoint.Http.PostAsJsonAsync("chat/completions", new
            {
                model,
                messages = new[] { new { role = "user", content = "Say OK." } },
                max_tokens = 1,
                n = 2,
            }, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            using var body = JsonDocument.Parse(text);
            return body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("choices", out var choices)
                   && choices.ValueKind == JsonValueKind.Array
                ? choices.GetArrayLength() == 2
                : null;
        }
        catch (BackendHttpException http)
        {
            var status = (int)http.StatusCode!.Value;
            return status switch
            {
                (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests => null,
                >= 400 and < 500 => false,
                _ when http.Body.Contains(ChoicesChatClient.LlamaCppRefusal, StringComparison.OrdinalIgnoreCase) => false,
                _ => null,
            };
        }
        catch (Exception)
        {
            // Timeout, dropped connection, not JSON: inconclusive. The caller's cancellation is noticed by the check.
            return null;
        }
        finally
        {
            endpoint.Limiter.Release();
        }
    }

    private static async Task<JsonElement> GetJsonAsync(EndpointState endpoint, string relative, Probe probe, CancellationToken cancellationToken)
    {
        probe.Route = new Uri(endpoint.Http.BaseAddress!, relative).AbsolutePath;
        using var response = await endpoint.Http.GetAsync(relative, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new UnexpectedAnswerException(probe.Route, $"not JSON: {Snippet(text)}");
        }
    }

    private static string? StringProperty(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static UnexpectedAnswerException Unexpected(string? route, string expected, JsonElement got) =>
        new(route ?? "the server", $"{expected}, got {Snippet(got.GetRawText())}");

    private static string Snippet(string text)
    {
        text = text.ReplaceLineEndings(" ").Trim();
        return text.Length == 0 ? "an empty body" : text.Length > 120 ? text[..120] + "…" : text;
    }

    private string Failure(Exception ex, EndpointState endpoint, string? route, bool timedOut)
    {
        var where = route ?? "the server";
        return ex switch
        {
            UnexpectedAnswerException unexpected => unexpected.Message,
            BackendHttpException { StatusCode: HttpStatusCode.NotFound } http =>
                $"{where} answered {http.Message}: is the base URL right?" +
                (endpoint.Options.Kind == EndpointKind.OpenAICompatible ? " OpenAI-compatible base URLs usually end in /v1." : ""),
            BackendHttpException http => $"{where} answered {http.Message}",
            OperationCanceledException { InnerException: TimeoutException } or HttpRequestException => EndpointCallChatClient.Problem(ex),
            OperationCanceledException when timedOut => $"no answer from {where} within {options.HealthCheckTimeoutSeconds} s",
            _ => $"unexpected answer from {where}: {ex.GetType().Name}: {ex.Message}",
        };
    }

    /// <summary>The route being probed, for messages, and when the model listing answered.</summary>
    private sealed class Probe(Stopwatch clock)
    {
        public string? Route { get; set; }

        public int? ListedAfterMs { get; private set; }

        public void Listed() => ListedAfterMs = (int)clock.ElapsedMilliseconds;
    }

    /// <summary>A server answered, but not in the protocol's shape.</summary>
    private sealed class UnexpectedAnswerException(string route, string problem) : Exception($"unexpected answer from {route}: {problem}");
}

/// <summary>Outcome of a test chat.</summary>
public sealed record TestChatResult(bool Ok, string? Model, string? Text, int? LatencyMs, long? PromptTokens, long? CompletionTokens, string? Error);
