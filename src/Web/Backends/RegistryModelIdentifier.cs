using SelfTaught.Core.Models;
using SelfTaught.Inference;

namespace SelfTaught.Web.Backends;

/// <summary>
/// Core's identity port over the inference layer: checks the endpoints that serve a model now (Ollama <c>/api/tags</c>
/// lists digests; OpenAI-compatible <c>/v1/models</c> lists served ids) and reports what the first one that lists the
/// model says.
/// </summary>
public sealed class RegistryModelIdentifier(EndpointRegistry registry, EndpointHealthChecker checker) : IModelIdentifier
{
    /// <inheritdoc />
    public async Task<ModelIdentity> IdentifyAsync(ModelReference model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        IReadOnlyList<EndpointState> candidates;
        try
        {
            candidates = registry.Resolve(model.Model, model.Endpoint).Candidates;
        }
        catch (InvalidOperationException ex)
        {
            return new ModelIdentity(model.Model, null, model.Endpoint, ex.Message);
        }
        foreach (var endpoint in candidates)
        {
            var health = await checker.CheckAsync(endpoint, cancellationToken);
            var served = health.Models.FirstOrDefault(m => string.Equals(m.Name, model.Model, StringComparison.Ordinal))
                ?? health.Models.FirstOrDefault(m => string.Equals(WithTag(m.Name), WithTag(model.Model), StringComparison.OrdinalIgnoreCase));
            if (served is not null)
                return new ModelIdentity(model.Model, served.Digest ?? served.Name, endpoint.Name);
        }
        return new ModelIdentity(model.Model, null, model.Endpoint ?? candidates.FirstOrDefault()?.Name,
            $"No endpoint serving {model} listed it when asked ({string.Join(", ", candidates.Select(c => c.Name))}).");
    }

    // Ollama names "x" and "x:latest" the same model.
    private static string WithTag(string name) => name.Contains(':', StringComparison.Ordinal) ? name : name + ":latest";
}
