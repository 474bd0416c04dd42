using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace SelfTaught.Inference.Middleware;

/// <summary>
/// Cancels one attempt that runs longer than <paramref name="timeout"/> and reports it as a
/// <see cref="RequestTimeoutException"/> (retryable), distinct from the caller cancelling.
/// </summary>
public sealed class RequestTimeoutChatClient(IChatClient inner, TimeSpan timeout) : DelegatingChatClient(inner)
{
    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(timeout);
        try
        {
            return await base.GetResponseAsync(messages, options, attempt.Token);
        }
        catch (Exception ex) when (TimedOut(ex, attempt, cancellationToken))
        {
            throw new RequestTimeoutException(timeout);
        }
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(timeout);
        await using var updates = base.GetStreamingResponseAsync(messages, options, attempt.Token).GetAsyncEnumerator(attempt.Token);
        while (true)
        {
            ChatResponseUpdate update;
            try
            {
                if (!await updates.MoveNextAsync()) yield break;
                update = updates.Current;
            }
            catch (Exception ex) when (TimedOut(ex, attempt, cancellationToken))
            {
                throw new RequestTimeoutException(timeout);
            }
            yield return update;
        }
    }

    // The clients surface our cancellation as OperationCanceledException, or wrapped (OpenAI's pipeline, socket errors).
    private static bool TimedOut(Exception ex, CancellationTokenSource attempt, CancellationToken caller) =>
        attempt.IsCancellationRequested && !caller.IsCancellationRequested && ex is not RequestTimeoutException;
}
