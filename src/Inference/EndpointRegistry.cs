using System.Collections.Concurrent;
using Microsoft.Extensions.AI;

namespace SelfTaught.Inference;

/// <summary>
/// The endpoints SelfTaught may call: those from configuration (or the default local Ollama) plus those stored by the
/// Settings page, which the host passes in with <see cref="SetStoredEndpoints"/>. Resolves a model to a chat client
/// that routes each request to the least busy healthy endpoint serving it. Thread-safe.
/// </summary>
public sealed class EndpointRegistry
{
    private readonly ChatClientFactory _factory;
    private readonly IReadOnlyList<EndpointState> _configured;
    private volatile EndpointState[] _all;
    private readonly ConcurrentDictionary<(EndpointState, string), IChatClient> _clients = new();
    private readonly Lock _update = new();

    /// <summary>Creates the registry over the configured endpoints.</summary>
    public EndpointRegistry(InferenceOptions options, ChatClientFactory factory)
    {
        _factory = factory;
        var origin = options.Endpoints.Count > 0 ? "configuration" : "built-in default";
        _configured = [.. options.EffectiveEndpoints.Select(e => new EndpointState(e, origin, factory.CreateHttpClient(e)))];
        _all = [.. _configured];
    }

    /// <summary>Raised after the set of endpoints changes.</summary>
    public event Action? Changed;

    /// <summary>All endpoints, configured ones first.</summary>
    public IReadOnlyList<EndpointState> Endpoints => _all;

    /// <summary>The endpoint called <paramref name="name"/> (case-insensitive), if any.</summary>
    public EndpointState? Find(string name) => _all.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether <paramref name="name"/> belongs to an endpoint from configuration, which the Settings page cannot change.</summary>
    public bool IsConfigured(string name) => _configured.Any(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Replaces the endpoints stored in the database. Unchanged endpoints keep their state (limiter, health, counters);
    /// a stored endpoint whose name a configured one already uses is ignored.
    /// </summary>
    public void SetStoredEndpoints(IEnumerable<EndpointOptions> stored)
    {
        lock (_update)
        {
            var next = _configured.ToList();
            foreach (var options in stored)
            {
                if (next.Any(e => string.Equals(e.Name, options.Name, StringComparison.OrdinalIgnoreCase))) continue;
                var existing = _all.FirstOrDefault(e => e.Origin == "database" && SameSettings(e.Options, options));
                next.Add(existing ?? new EndpointState(options, "database", _factory.CreateHttpClient(options)));
            }
            foreach (var key in _clients.Keys.Where(k => !next.Contains(k.Item1)).ToList()) _clients.TryRemove(key, out _);
            _all = [.. next];
        }
        Changed?.Invoke();
    }

    /// <summary>
    /// A chat client for <paramref name="model"/>: on the named endpoint, or spread over every enabled endpoint that
    /// serves it (least outstanding requests first, unhealthy ones skipped while another can serve).
    /// </summary>
    /// <exception cref="InvalidOperationException">The endpoint does not exist, or no endpoint serves the model.</exception>
    public (IChatClient Client, IReadOnlyList<EndpointState> Candidates) Resolve(string model, string? endpoint = null)
    {
        if (string.IsNullOrWhiteSpace(model)) throw new InvalidOperationException("No model named: choose a model for this step.");
        if (endpoint is not null)
        {
            var named = Find(endpoint) ?? throw new InvalidOperationException(
                $"No endpoint named '{endpoint}'. Known endpoints: {string.Join(", ", _all.Select(e => e.Name))}.");
            return (ClientFor(named, model), [named]);
        }
        var candidates = Candidates(model);
        if (candidates.Count == 0)
            throw new InvalidOperationException(
                $"No endpoint is known to serve model '{model}'. Endpoints and their models: " +
                string.Join("; ", _all.Select(e => $"{e.Name} [{string.Join(", ", e.Health.Models.Select(m => m.Name).DefaultIfEmpty(e.Options.DefaultModel ?? "none listed"))}]")) +
                ". Name the endpoint explicitly, or set its default model.");
        return candidates.Count == 1 ? (ClientFor(candidates[0], model), candidates) : (new ModelRouterChatClient(this, model), candidates);
    }

    /// <summary>Endpoints that serve <paramref name="model"/>; when a single endpoint exists it is used even if its model list is unknown.</summary>
    internal IReadOnlyList<EndpointState> Candidates(string model)
    {
        var all = _all;
        var serving = all.Where(e => e.Serves(model)).ToList();
        if (serving.Count == 0 && all.Length == 1 && all[0].Health.Models.Count == 0) serving.Add(all[0]);
        return serving;
    }

    /// <summary>The least busy endpoint for <paramref name="model"/>, preferring those not marked unhealthy.</summary>
    internal EndpointState Pick(string model)
    {
        var candidates = Candidates(model);
        if (candidates.Count == 0) throw new InvalidOperationException($"No endpoint serves model '{model}' any more.");
        var usable = candidates.Where(e => !e.IsUnhealthy).ToList();
        return (usable.Count > 0 ? usable : candidates).MinBy(e => e.Outstanding)!;
    }

    internal IChatClient ClientFor(EndpointState endpoint, string model) =>
        _clients.GetOrAdd((endpoint, model), key => _factory.Create(key.Item1, key.Item2));

    private static bool SameSettings(EndpointOptions a, EndpointOptions b) =>
        a.Name == b.Name && a.Kind == b.Kind && a.BaseUrl == b.BaseUrl && a.DefaultModel == b.DefaultModel
        && a.MaxConcurrentRequests == b.MaxConcurrentRequests && a.RequestTimeoutSeconds == b.RequestTimeoutSeconds
        && a.ApiKeyReference == b.ApiKeyReference && a.NumCtx == b.NumCtx && a.AcceptsN == b.AcceptsN;
}
