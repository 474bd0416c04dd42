namespace SelfTaught.Inference;

/// <summary>Health of an endpoint as its last check saw it.</summary>
public enum EndpointHealth
{
    /// <summary>Not checked yet; requests may go to it.</summary>
    Unknown,
    Healthy,
    /// <summary>The last check failed; skipped for requests while another endpoint serves the model.</summary>
    Unhealthy,
}

/// <summary>A model an endpoint serves, with its identity (Ollama digest or served id).</summary>
public sealed record ServedModel(string Name, string? Digest);

/// <summary>
/// Live state of one endpoint: its settings, the concurrency limiter every caller shares, outstanding requests,
/// health, models and usage counters. Thread-safe.
/// </summary>
public sealed class EndpointState
{
    private long _outstanding;
    private long _requests;
    private long _failures;
    private long _promptTokens;
    private long _completionTokens;
    private volatile HealthSnapshot _health = new(EndpointHealth.Unknown, null, null, null, [], null);

    internal EndpointState(EndpointOptions options, string origin, HttpClient http)
    {
        Options = options;
        Origin = origin;
        Http = http;
        Limiter = new SemaphoreSlim(options.MaxConcurrentRequests, options.MaxConcurrentRequests);
    }

    /// <summary>Settings of the endpoint.</summary>
    public EndpointOptions Options { get; }

    /// <summary>Where the endpoint was defined: <c>configuration</c>, <c>built-in default</c> or <c>database</c>.</summary>
    public string Origin { get; }

    /// <summary>Name of the endpoint.</summary>
    public string Name => Options.Name;

    internal HttpClient Http { get; }

    /// <summary>Shared by every client of this endpoint: at most <see cref="EndpointOptions.MaxConcurrentRequests"/> in flight.</summary>
    public SemaphoreSlim Limiter { get; }

    /// <summary>Requests started and not finished, including those waiting for a slot.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>Latest health check result.</summary>
    public HealthSnapshot Health => _health;

    /// <summary>Whether requests should avoid this endpoint.</summary>
    public bool IsUnhealthy => _health.State == EndpointHealth.Unhealthy;

    /// <summary>Usage since start: requests, failed requests, prompt and completion tokens.</summary>
    public (long Requests, long Failures, long PromptTokens, long CompletionTokens) Usage =>
        (Interlocked.Read(ref _requests), Interlocked.Read(ref _failures), Interlocked.Read(ref _promptTokens), Interlocked.Read(ref _completionTokens));

    /// <summary>Whether <paramref name="model"/> is known to be served here (listed by the server, or the default model).</summary>
    public bool Serves(string model) =>
        SameModel(Options.DefaultModel, model) || _health.Models.Any(m => SameModel(m.Name, model));

    // Ollama treats "llama3" and "llama3:latest" as one model.
    private bool SameModel(string? a, string b) =>
        a is not null && (string.Equals(a, b, StringComparison.Ordinal)
                          || (Options.Kind == EndpointKind.Ollama && string.Equals(Untagged(a), Untagged(b), StringComparison.Ordinal)));

    private static string Untagged(string model) => model.EndsWith(":latest", StringComparison.Ordinal) ? model[..^7] : model;

    /// <summary>Whether one request may ask for several choices.</summary>
    public bool AcceptsN => Options.Kind == EndpointKind.OpenAICompatible && (Options.AcceptsN ?? _health.AcceptsN ?? false);

    internal void Started() => Interlocked.Increment(ref _outstanding);

    internal void Finished(bool failed, long? promptTokens, long? completionTokens)
    {
        Interlocked.Decrement(ref _outstanding);
        Interlocked.Increment(ref _requests);
        if (failed) Interlocked.Increment(ref _failures);
        if (promptTokens is { } p) Interlocked.Add(ref _promptTokens, p);
        if (completionTokens is { } c) Interlocked.Add(ref _completionTokens, c);
    }

    internal void SetHealth(HealthSnapshot snapshot) => _health = snapshot;
}

/// <summary>One health check's result.</summary>
/// <param name="State">Healthy, unhealthy or not checked.</param>
/// <param name="LatencyMs">Round trip of the check.</param>
/// <param name="CheckedAt">When it ran (UTC).</param>
/// <param name="Error">Why it failed.</param>
/// <param name="Models">Models the server listed.</param>
/// <param name="AcceptsN">Whether a probe with <c>n</c> = 2 returned two choices (OpenAI-compatible only); null if not probed.</param>
/// <param name="Version">Server version, where the server reports one (Ollama).</param>
public sealed record HealthSnapshot(EndpointHealth State, int? LatencyMs, DateTime? CheckedAt, string? Error, IReadOnlyList<ServedModel> Models, bool? AcceptsN, string? Version = null);
