using System.ClientModel;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace SelfTaught.Inference.Middleware;

/// <summary>
/// Retries transient failures — 408, 429, 5xx, request timeouts, refused or dropped connections — with exponential
/// backoff and jitter, honouring <c>Retry-After</c>. Streaming calls are retried only before their first update.
/// </summary>
public sealed class RetryingChatClient(IChatClient inner, RetryOptions options, Func<TimeSpan, CancellationToken, Task>? delay = null, Random? jitter = null)
    : DelegatingChatClient(inner)
{
    private readonly Func<TimeSpan, CancellationToken, Task> _delay = delay ?? Task.Delay;
    private readonly Random _jitter = jitter ?? Random.Shared;

    /// <summary>
    /// Key of the number of attempts a call took, in <see cref="ChatResponse.AdditionalProperties"/> (streaming: in the
    /// first update's, which <c>ToChatResponse</c> puts on the first message). Per response, not a property of this
    /// client, because one client serves many concurrent calls.
    /// </summary>
    public const string AttemptsKey = "selftaught.attempts";

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? messages.ToList();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var response = await base.GetResponseAsync(list, options, cancellationToken);
                (response.AdditionalProperties ??= [])[AttemptsKey] = attempt + 1;
                return response;
            }
            catch (Exception ex) when (ShouldRetry(ex, attempt, cancellationToken, out var wait))
            {
                await _delay(wait, cancellationToken);
            }
        }
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? messages.ToList();
        for (var attempt = 0; ; attempt++)
        {
            var updates = base.GetStreamingResponseAsync(list, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            ChatResponseUpdate? first = null;
            var retry = false;
            var wait = TimeSpan.Zero;
            try
            {
                if (await updates.MoveNextAsync()) first = updates.Current;
            }
            catch (Exception ex) when (ShouldRetry(ex, attempt, cancellationToken, out wait))
            {
                retry = true;
            }

            if (retry)
            {
                await updates.DisposeAsync();
                await _delay(wait, cancellationToken);
                continue;
            }

            await using (updates)
            {
                if (first is null) yield break;
                (first.AdditionalProperties ??= [])[AttemptsKey] = attempt + 1;
                yield return first;
                while (await updates.MoveNextAsync()) yield return updates.Current;
            }
            yield break;
        }
    }

    private bool ShouldRetry(Exception ex, int attempt, CancellationToken cancellationToken, out TimeSpan wait)
    {
        wait = TimeSpan.Zero;
        if (cancellationToken.IsCancellationRequested || attempt >= options.MaxRetries || !IsTransient(ex, out var retryAfter)) return false;
        if (retryAfter is { } asked)
        {
            // A server asking for a longer pause than we accept fails now rather than parking a worker.
            if (asked > TimeSpan.FromSeconds(options.MaxRetryAfterSeconds)) return false;
            wait = asked;
            return true;
        }
        var backoff = Math.Min(options.MaxDelayMs, options.BaseDelayMs * Math.Pow(2, attempt));
        // Equal jitter: half fixed, half random, so clients that failed together do not retry together.
        wait = TimeSpan.FromMilliseconds(backoff / 2 + _jitter.NextDouble() * backoff / 2);
        return true;
    }

    /// <summary>Whether a failure is worth retrying, and the server's requested wait if it sent one.</summary>
    public static bool IsTransient(Exception ex, out TimeSpan? retryAfter)
    {
        retryAfter = null;
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // Checked before the HTTP failure it may wrap: llama.cpp refuses n with a 500 that no retry fixes.
                case ChoicesNotAcceptedException:
                    return false;
                case BackendHttpException http:
                    retryAfter = http.RetryAfter;
                    return FailureTranslatingHandler.IsTransient(http.StatusCode!.Value);
                case RequestTimeoutException:
                    return true;
                // SocketsHttpHandler's ConnectTimeout surfaces as a cancellation wrapping a TimeoutException; the caller's
                // own cancellation is ruled out before this is asked.
                case OperationCanceledException { InnerException: TimeoutException }:
                case TimeoutException:
                    return true;
                case ClientResultException { Status: > 0 } result:
                    return FailureTranslatingHandler.IsTransient((System.Net.HttpStatusCode)result.Status);
                case HttpRequestException { StatusCode: { } status }:
                    return FailureTranslatingHandler.IsTransient(status);
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded or HttpRequestError.NameResolutionError }:
                case SocketException:
                case IOException:
                    return true;
            }
        }
        return false;
    }
}
