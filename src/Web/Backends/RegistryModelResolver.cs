using SelfTaught.Core.Models;
using SelfTaught.Inference;

namespace SelfTaught.Web.Backends;

/// <summary>Core's model port over the inference layer's endpoint registry.</summary>
public sealed class RegistryModelResolver(EndpointRegistry registry) : IModelResolver
{
    /// <inheritdoc />
    public ResolvedModel Resolve(ModelReference model)
    {
        try
        {
            var (client, candidates) = registry.Resolve(model.Model, model.Endpoint);
            return new ResolvedModel(client, new ModelCapabilities(
                AcceptsN: candidates.All(c => c.AcceptsN),
                MaxConcurrentRequests: candidates.Sum(c => c.Options.MaxConcurrentRequests),
                Endpoints: [.. candidates.Select(c => c.Name)]));
        }
        catch (InvalidOperationException ex)
        {
            throw new ModelResolutionException(ex.Message);
        }
    }
}
