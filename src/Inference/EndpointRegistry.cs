using Microsoft.Extensions.AI;

namespace SelfTaught.Inference;

/// <summary>
/// The endpoints SelfTaught may call: those from configuration (<c>Inference:Endpoints</c>) plus those stored by the
/// Settings page, which the host passes in with <see cref="SetStoredEndpoints"/>. Only when there are neither does the
/// built-in default, a local Ollama server, apply. Resolves a model to a chat client that routes each request to the
/// least loaded healthy endpoint serving it. Thread-safe.
/// </summary>
public sealed class EndpointRegistry
{
    /// <summary><see cref="EndpointState.Origin"/> of endpoints from <c>Inference:Endpoints</c>.</summary>
    public const string ConfigurationOrigin = "configuration";

    /// <summary><see cref="EndpointState.Origin"/> of the local Ollama used when no endpoint is configured or stored.</summary>
    public const string DefaultOrigin = "built-in default";

    /// <summary><see cref="EndpointState.Origin"/> of endpoints stored by the Settings page.</summary>
    public const string DatabaseOrigin = "database";

    private readonly ChatClientFactory _factory;
    private readonly IReadOnlyList<EndpointState> _configured;
    private volatile EndpointState[] _all;
    private readonly Lock _update = new();
    private int _turn;

    /// <summary>Creates the registry over the configured endpoints (or the built-in default when there are none).</summary>
    public EndpointRegistry(InferenceOptions options, ChatClientFactory factory)
    {
        _factory = factory;
        _configured = [.. options.Endpoints.Select(e => new EndpointState(e, ConfigurationOrigin, factory.CreateHttpClient(e)))];
        _all = _configured.Count > 0 ? [.. _configured] : [NewDefault()];
    }

    /// <summary>Builds the endpoints' clients.</summary>
    internal ChatClientFactory Factory => _factory;

    /// <summary>Raised after the set of endpoints or their settings change.</summary>
    public event Action? Changed;

    /// <summary>All endpoints, configured ones first.</summary>
    public IReadOnlyList<EndpointState> Endpoints => _all;

    /// <summary>The endpoint called <paramref name="name"/> (case-insensitive), if any.</summary>
    public EndpointState? Find(string name) => _all.FirstOrDefault(e => SameName(e.Name, name));

    /// <summary>
    /// Whether <paramref name="name"/> belongs to an endpoint from configuration (<c>Inference:Endpoints</c>), which the
    /// Settings page cannot change. The built-in default is not: storing any endpoint replaces it.
    /// </summary>
    public bool IsConfigured(string name) => _configured.Any(e => SameName(e.Name, name));

    /// <summary>
    /// Replaces the endpoints stored in the database. A stored endpoint whose name a configured one already uses is
    /// ignored. An endpoint keeping its name, kind, base URL and key reference keeps its state — health, models,
    /// counters, outstanding requests and its limiter, resized if its limit changed — so requests in flight are
    /// still counted against the same limit; new requests use the new settings. Any other change makes a new state;
    /// the old one's HTTP client is disposed when its last request or check ends. With no configured and no stored
    /// endpoint, the built-in default (local Ollama) applies.
    /// </summary>
    public void SetStoredEndpoints(IEnumerable<EndpointOptions> stored)
    {
        List<EndpointState> retired;
        lock (_update)
        {
            var previous = _all;
            var next = _configured.ToList();
            foreach (var options in stored)
            {
                if (next.Any(e => SameName(e.Name, options.Name))) continue;
                var existing = previous.FirstOrDefault(e => e.Origin == DatabaseOrigin && SameName(e.Name, options.Name));
                if (existing is not null && SameConnection(existing.Options, options))
                {
                    if (!SameSettings(existing.Options, options)) existing.Update(options);
                    next.Add(existing);
                }
                else
                {
                    next.Add(new EndpointState(options, DatabaseOrigin, _factory.CreateHttpClient(options)));
                }
            }
            if (next.Count == 0) next.Add(previous.FirstOrDefault(e => e.Origin == DefaultOrigin) ?? NewDefault());
            retired = previous.Where(e => !next.Contains(e)).ToList();
            _all = [.. next];
        }
        foreach (var endpoint in retired) endpoint.Retire();
        Changed?.Invoke();
    }

    /// <summary>
    /// A chat client for <paramref name="model"/>: on the named endpoint, or spread over every enabled endpoint that
    /// serves it (least load first, unhealthy ones skipped while another can serve). The client looks the endpoint
    /// up for every request, so edits made on the Settings page apply to it at once.
    /// </summary>
    /// <exception cref="InvalidOperationException">The endpoint does not exist, or no endpoint serves the model.</exception>
    public (IChatClient Client, IReadOnlyList<EndpointState> Candidates) Resolve(string model, string? endpoint = null)
    {
        if (string.IsNullOrWhiteSpace(model)) throw new InvalidOperationException("No model named: choose a model for this step.");
        if (endpoint is not null)
        {
            var named = Find(endpoint) ?? throw new InvalidOperationException(
                $"No endpoint named '{endpoint}'. Known endpoints: {string.Join(", ", _all.Select(e => e.Name))}.");
            return (new ModelRouterChatClient(this, model, named.Name), [named]);
        }
        var candidates = Candidates(model);
        if (candidates.Count == 0)
            throw new InvalidOperationException(
                $"No endpoint is known to serve model '{model}'. Endpoints and their models: " +
                string.Join("; ", _all.Select(e => $"{e.Name} [{string.Join(", ", e.Health.Models.Select(m => m.Name).DefaultIfEmpty(e.Options.DefaultModel ?? "none listed"))}]")) +
                ". Name the endpoint explicitly, or set its default model.");
        return (new ModelRouterChatClient(this, model), candidates);
    }

    /// <summary>Endpoints that serve <paramref name="model"/>; when a single endpoint exists it is used even if its model list is unknown.</summary>
    internal IReadOnlyList<EndpointState> Candidates(string model)
    {
        var all = _all;
        var serving = all.Where(e => e.Serves(model)).ToList();
        if (serving.Count == 0 && all.Length == 1 && all[0].Health.Models.Count == 0) serving.Add(all[0]);
        return serving;
    }

    /// <summary>
    /// The endpoint for the next request: the named one, or the least loaded (outstanding ÷ limit) of those serving
    /// <paramref name="model"/>, preferring those not marked unhealthy; equally loaded endpoints take turns. With
    /// <paramref name="needsN"/> (a request for several choices) only endpoints accepting <c>n</c> are considered while
    /// any does; if none does, the pick is made as usual and that endpoint's middleware refuses the request.
    /// </summary>
    internal EndpointState Pick(string model, string? endpoint = null, bool needsN = false)
    {
        if (endpoint is not null)
            return Find(endpoint) ?? throw new InvalidOperationException($"Endpoint '{endpoint}' no longer exists: it was removed or renamed.");
        var candidates = Candidates(model);
        if (candidates.Count == 0) throw new InvalidOperationException($"No endpoint serves model '{model}' any more.");
        if (needsN && candidates.Where(e => e.AcceptsN).ToList() is { Count: > 0 } accepting) candidates = accepting;
        var usable = candidates.Where(e => !e.IsUnhealthy).ToList();
        var pool = usable.Count > 0 ? usable : [.. candidates];
        if (pool.Count == 1) return pool[0];
        // One reading of each load: they change while we look.
        var loads = pool.Select(e => (Endpoint: e, Load: (double)e.Outstanding / e.Options.MaxConcurrentRequests)).ToList();
        var least = loads.Min(l => l.Load);
        var tied = loads.Where(l => l.Load == least).ToList();
        return tied.Count == 1 ? tied[0].Endpoint : tied[(int)((uint)Interlocked.Increment(ref _turn) % (uint)tied.Count)].Endpoint;
    }

    internal IChatClient ClientFor(EndpointState endpoint, string model) =>
        endpoint.Clients.GetOrAdd(model, m => _factory.Create(endpoint, m));

    private EndpointState NewDefault()
    {
        var options = EndpointOptions.DefaultOllama();
        return new EndpointState(options, DefaultOrigin, _factory.CreateHttpClient(options));
    }

    private static bool SameName(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    // What the HTTP client is built from: base address and Authorization header.
    private static bool SameConnection(EndpointOptions a, EndpointOptions b) =>
        a.Kind == b.Kind && a.BaseUrl == b.BaseUrl && a.ApiKeyReference == b.ApiKeyReference;

    private static bool SameSettings(EndpointOptions a, EndpointOptions b) =>
        a.Name == b.Name && SameConnection(a, b) && a.DefaultModel == b.DefaultModel
        && a.MaxConcurrentRequests == b.MaxConcurrentRequests && a.RequestTimeoutSeconds == b.RequestTimeoutSeconds
        && a.NumCtx == b.NumCtx && a.AcceptsN == b.AcceptsN && a.MaxTokensField == b.MaxTokensField;
}
