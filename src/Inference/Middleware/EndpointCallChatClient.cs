using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace SelfTaught.Inference.Middleware;

/// <summary>
/// Outermost per-endpoint middleware: counts outstanding requests (for least-outstanding routing), measures latency,
/// records usage on the endpoint and in the response (<c>selftaught.latency_ms</c>, <c>selftaught.endpoint</c>) so
/// callers can store it with each record, and turns failures into an <see cref="InferenceException"/> that names
/// the endpoint, its URL, the model and the problem.
/// </summary>
public sealed class EndpointCallChatClient(IChatClient inner, EndpointState endpoint, string model) : DelegatingChatClient(inner)
{
    /// <summary>Key of the latency in <see cref="ChatResponse.AdditionalProperties"/>.</summary>
    public const string LatencyMsKey = "selftaught.latency_ms";

    /// <summary>Key of the endpoint name in <see cref="ChatResponse.AdditionalProperties"/>.</summary>
    public const string EndpointKey = "selftaught.endpoint";

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (!endpoint.TryStart()) throw Retired();
        var clock = Stopwatch.StartNew();
        try
        {
            var response = await base.GetResponseAsync(messages, options, cancellationToken);
            Stamp(response.AdditionalProperties ??= [], clock);
            endpoint.Finished(false, response.Usage?.InputTokenCount, response.Usage?.OutputTokenCount);
            return response;
        }
        catch (Exception ex)
        {
            endpoint.Finished(true, null, null);
            throw Describe(ex, cancellationToken);
        }
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (!endpoint.TryStart()) throw Retired();
        var clock = Stopwatch.StartNew();
        long? promptTokens = null, completionTokens = null;
        var finished = false;
        try
        {
            await using var updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync()) break;
                }
                catch (Exception ex)
                {
                    finished = true;
                    endpoint.Finished(true, null, null);
                    throw Describe(ex, cancellationToken);
                }
                foreach (var usage in updates.Current.Contents.OfType<UsageContent>())
                {
                    promptTokens = usage.Details.InputTokenCount ?? promptTokens;
                    completionTokens = usage.Details.OutputTokenCount ?? completionTokens;
                }
                yield return updates.Current;
            }
            var last = new ChatResponseUpdate { Role = ChatRole.Assistant, AdditionalProperties = [] };
            Stamp(last.AdditionalProperties, clock);
            finished = true;
            endpoint.Finished(false, promptTokens, completionTokens);
            yield return last;
        }
        finally
        {
            // A consumer that stops early still frees its outstanding slot.
            if (!finished) endpoint.Finished(false, promptTokens, completionTokens);
        }
    }

    private void Stamp(AdditionalPropertiesDictionary properties, Stopwatch clock)
    {
        properties[LatencyMsKey] = (int)clock.ElapsedMilliseconds;
        properties[EndpointKey] = endpoint.Name;
    }

    private Exception Describe(Exception ex, CancellationToken cancellationToken)
    {
        if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested) return ex;
        var transient = RetryingChatClient.IsTransient(ex, out _);
        return new InferenceException(endpoint.Name, endpoint.Options.BaseUrl, model, Problem(ex), transient, ex);
    }

    private InferenceException Retired() =>
        new(endpoint.Name, endpoint.Options.BaseUrl, model, "the endpoint was changed or removed; nothing was sent", true, new EndpointRetiredException());

    /// <summary>What went wrong, in words a user can act on (without the endpoint, which the caller adds).</summary>
    public static string Problem(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case ChoicesNotAcceptedException choices:
                    return choices.Message;
                // SocketsHttpHandler's ConnectTimeout: an OperationCanceledException wrapping a TimeoutException.
                case OperationCanceledException { InnerException: TimeoutException and not RequestTimeoutException }:
                    return $"connection timed out after {ChatClientFactory.ConnectTimeout.TotalSeconds:0.#} s (is the host reachable?)";
                case BackendHttpException http when (int)http.StatusCode! == 404:
                    return $"not found (is the model pulled/served and the base URL right?): {http.Message}";
                case BackendHttpException http:
                    return http.Message;
                case RequestTimeoutException timeout:
                    return timeout.Message;
                case System.Text.Json.JsonException json:
                    return $"the server's answer is not valid JSON for this protocol ({json.Message})";
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } connection:
                    return $"cannot connect ({connection.InnerException?.Message ?? connection.Message})";
                case HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } name:
                    return $"host name cannot be resolved ({name.Message})";
                case HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded or HttpRequestError.InvalidResponse } dropped:
                    return $"the connection was dropped or the answer was malformed ({dropped.Message})";
            }
        }
        return ex.Message;
    }
}
