using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace SelfTaught.Inference.Middleware;

/// <summary>
/// Lets at most the endpoint's limit of requests run at once. The limiter belongs to the endpoint, so every client
/// and stage that calls it shares the same limit, and it survives edits of the endpoint (resized, not replaced).
/// Waiting for a slot does not count toward the request timeout.
/// </summary>
public sealed class ConcurrencyLimitingChatClient(IChatClient inner, ConcurrencyLimiter limiter) : DelegatingChatClient(inner)
{
    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        await limiter.WaitAsync(cancellationToken);
        try
        {
            return await base.GetResponseAsync(messages, options, cancellationToken);
        }
        finally
        {
            limiter.Release();
        }
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await limiter.WaitAsync(cancellationToken);
        try
        {
            await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
                yield return update;
        }
        finally
        {
            limiter.Release();
        }
    }
}
