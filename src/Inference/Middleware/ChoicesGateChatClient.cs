using Microsoft.Extensions.AI;

namespace SelfTaught.Inference.Middleware;

/// <summary>
/// Outermost per-endpoint middleware: a request for several choices (<see cref="ChoicesChatClient.CountKey"/> &gt; 1)
/// fails at once — before a slot, a retry or a byte on the wire — when the endpoint does not accept <c>n</c> as of now
/// (<see cref="EndpointState.AcceptsN"/>: Ollama never does; an OpenAI-compatible endpoint when configured or probed
/// to, not while its probe is undecided), or when the call streams. Callers batch only where the model's capabilities
/// say so; this makes a mistake a clear error instead of a stray field or a run of retried HTTP 500s. A count of 1 is
/// removed from the options, so neither protocol client sees the key.
/// </summary>
public sealed class ChoicesGateChatClient(IChatClient inner, EndpointState endpoint, string model) : DelegatingChatClient(inner)
{
    /// <inheritdoc />
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var count = ChoicesChatClient.RequestedCount(options);
        if (count == 1) return base.GetResponseAsync(messages, ChoicesChatClient.WithoutCount(options), cancellationToken);
        if (!endpoint.AcceptsN) throw Refused(NotAcceptedProblem(count));
        return base.GetResponseAsync(messages, options, cancellationToken);
    }

    /// <inheritdoc />
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var count = ChoicesChatClient.RequestedCount(options);
        if (count > 1) throw Refused(ChoicesChatClient.StreamingProblem(count));
        return base.GetStreamingResponseAsync(messages, ChoicesChatClient.WithoutCount(options), cancellationToken);
    }

    private InferenceException Refused(string problem) =>
        new(endpoint.Name, endpoint.Options.BaseUrl, model, problem, false, new ChoicesNotAcceptedException(problem));

    private string NotAcceptedProblem(int count)
    {
        var settings = endpoint.Options;
        var why = settings.Kind == EndpointKind.Ollama ? "Ollama has no n"
            : settings.AcceptsN == false ? "the endpoint is configured with AcceptsN = false"
            : endpoint.Health.AcceptsN == false ? "the health check found that the server refuses or ignores n (llama.cpp's server does)"
            : "whether the server accepts n is not known yet (the health check's n = 2 probe has not given a clear answer)";
        return $"asked for n = {count} choices in one request, but {why}; only batch where the model's capabilities accept n, " +
               $"otherwise send {count} requests with their own seeds; nothing was sent";
    }
}
