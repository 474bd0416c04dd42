using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using SelfTaught.Inference.Middleware;

namespace SelfTaught.Inference;

/// <summary>
/// Sends each request for one model to an endpoint chosen at that moment: the named one, or the least loaded among
/// those serving the model, skipping endpoints whose health check failed while another can serve. Choosing per
/// request means endpoint edits and additions apply to clients a stage already holds. A request for several choices
/// (<c>n</c> &gt; 1) goes only to endpoints that accept <c>n</c> while any does; otherwise the chosen endpoint's
/// middleware refuses it with a message saying why.
/// </summary>
public sealed class ModelRouterChatClient(EndpointRegistry registry, string model, string? endpoint = null) : IChatClient
{
    // An endpoint edited between picking it and starting the request is retired; picking again finds its successor.
    private const int MaxReroutes = 3;

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var batch = ChoicesChatClient.RequestedCount(options) > 1;
        for (var reroute = 0; ; reroute++)
        {
            try
            {
                return await registry.ClientFor(registry.Pick(model, endpoint, batch), model).GetResponseAsync(messages, options, cancellationToken);
            }
            catch (InferenceException ex) when (ex.InnerException is EndpointRetiredException && reroute < MaxReroutes)
            {
            }
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var reroute = 0; ; reroute++)
        {
            var updates = registry.ClientFor(registry.Pick(model, endpoint, ChoicesChatClient.RequestedCount(options) > 1), model)
                .GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            bool any;
            try
            {
                any = await updates.MoveNextAsync();
            }
            catch (Exception ex)
            {
                await updates.DisposeAsync();
                if (ex is InferenceException { InnerException: EndpointRetiredException } && reroute < MaxReroutes) continue;
                throw;
            }
            await using (updates)
            {
                if (!any) yield break;
                yield return updates.Current;
                while (await updates.MoveNextAsync()) yield return updates.Current;
            }
            yield break;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    /// <inheritdoc />
    public void Dispose()
    {
        // The endpoint clients belong to the registry.
    }
}

/// <summary>The endpoint was removed or replaced after a request had been routed to it; nothing was sent.</summary>
internal sealed class EndpointRetiredException() : Exception("The endpoint was removed or changed while the request was being routed; route it again.");
