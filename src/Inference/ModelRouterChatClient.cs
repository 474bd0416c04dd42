using Microsoft.Extensions.AI;

namespace SelfTaught.Inference;

/// <summary>
/// Sends each request for one model to the endpoint with the fewest outstanding requests among those serving it,
/// skipping endpoints whose health check failed while another can serve.
/// </summary>
public sealed class ModelRouterChatClient(EndpointRegistry registry, string model) : IChatClient
{
    /// <inheritdoc />
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        registry.ClientFor(registry.Pick(model), model).GetResponseAsync(messages, options, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        registry.ClientFor(registry.Pick(model), model).GetStreamingResponseAsync(messages, options, cancellationToken);

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType.IsInstanceOfType(this) ? this : null;

    /// <inheritdoc />
    public void Dispose()
    {
        // The endpoint clients belong to the registry.
    }
}
