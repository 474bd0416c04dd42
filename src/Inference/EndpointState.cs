using System.Collections.Concurrent;
using Microsoft.Extensions.AI;

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
/// health, models and usage counters. Settings other than kind, base URL and key reference can change in place
/// (<see cref="EndpointRegistry.SetStoredEndpoints"/>); the state, its limiter and its counters stay. Thread-safe.
/// </summary>
public sealed class EndpointState
{
    private long _outstanding;
    private long _requests;
    private long _failures;
    private long _promptTokens;
    private long _completionTokens;
    // One lease is the registry's; every request and health check holds one more while it uses the HTTP client.
    private int _leases = 1;
    private int _retired;
    private volatile EndpointOptions _options;
    private volatile HealthSnapshot _health = new(EndpointHealth.Unknown, null, null, null, [], null);
    private volatile ConcurrentDictionary<string, IChatClient> _clients = new(StringComparer.Ordinal);

    internal EndpointState(EndpointOptions options, string origin, HttpClient http)
    {
        _options = options;
        Origin = origin;
        Http = http;
        Limiter = new ConcurrencyLimiter(options.MaxConcurrentRequests);
    }

    /// <summary>Settings of the endpoint (replaced as a whole when they are edited).</summary>
    public EndpointOptions Options => _options;

    /// <summary>Where the endpoint was defined: <c>configuration</c>, <c>built-in default</c> or <c>database</c>.</summary>
    public string Origin { get; }

    /// <summary>Name of the endpoint.</summary>
    public string Name => Options.Name;

    internal HttpClient Http { get; }

    /// <summary>Shared by every client of this endpoint: at most <see cref="EndpointOptions.MaxConcurrentRequests"/> in flight.</summary>
    public ConcurrencyLimiter Limiter { get; }

    /// <summary>Requests started and not finished, including those waiting for a slot.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>Whether the registry dropped this state (removed, or replaced after a change of kind, URL or key).</summary>
    public bool IsRetired => Volatile.Read(ref _retired) != 0;

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

    /// <summary>Chat clients (full middleware stack) per model, built from the current settings; dropped when they change.</summary>
    internal ConcurrentDictionary<string, IChatClient> Clients => _clients;

    /// <summary>
    /// Applies edited settings that keep the same kind, base URL and key reference: the limiter is resized (requests
    /// in flight keep their slots) and the cached clients are dropped so new requests use the new timeout, num_ctx, etc.
    /// </summary>
    internal void Update(EndpointOptions options)
    {
        _options = options;
        if (Limiter.Limit != options.MaxConcurrentRequests) Limiter.SetLimit(options.MaxConcurrentRequests);
        _clients = new(StringComparer.Ordinal);
    }

    /// <summary>Takes a lease on the HTTP client; false once the state is retired and its client disposed.</summary>
    internal bool TryAcquireLease()
    {
        while (true)
        {
            var leases = Volatile.Read(ref _leases);
            if (leases == 0) return false;
            if (Interlocked.CompareExchange(ref _leases, leases + 1, leases) == leases) return true;
        }
    }

    /// <summary>Returns a lease; the last one of a retired state disposes its HTTP client.</summary>
    internal void ReleaseLease()
    {
        if (Interlocked.Decrement(ref _leases) == 0) Http.Dispose();
    }

    /// <summary>Drops the registry's lease: the HTTP client is disposed as soon as no request or check uses it.</summary>
    internal void Retire()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 0) ReleaseLease();
    }

    /// <summary>Counts a request as outstanding; false if the state was retired meanwhile (route it again).</summary>
    internal bool TryStart()
    {
        if (!TryAcquireLease()) return false;
        Interlocked.Increment(ref _outstanding);
        return true;
    }

    internal void Finished(bool failed, long? promptTokens, long? completionTokens)
    {
        Interlocked.Decrement(ref _outstanding);
        Interlocked.Increment(ref _requests);
        if (failed) Interlocked.Increment(ref _failures);
        if (promptTokens is { } p) Interlocked.Add(ref _promptTokens, p);
        if (completionTokens is { } c) Interlocked.Add(ref _completionTokens, c);
        ReleaseLease();
    }

    internal void SetHealth(HealthSnapshot snapshot) => _health = snapshot;
}

/// <summary>One health check's result.</summary>
/// <param name="State">Healthy, unhealthy or not checked.</param>
/// <param name="LatencyMs">Round trip of the check.</param>
/// <param name="CheckedAt">When it ran (UTC).</param>
/// <param name="Error">Why it failed.</param>
/// <param name="Models">Models the server listed.</param>
/// <param name="AcceptsN">Whether a probe with <c>n</c> = 2 returned two choices (OpenAI-compatible only); null if not probed yet or the last probe was inconclusive.</param>
/// <param name="Version">Server version, where the server reports one (Ollama).</param>
public sealed record HealthSnapshot(EndpointHealth State, int? LatencyMs, DateTime? CheckedAt, string? Error, IReadOnlyList<ServedModel> Models, bool? AcceptsN, string? Version = null);
