using Microsoft.Extensions.AI;
using OllamaSharp;
using OllamaSharp.Models;

namespace SelfTaught.Inference.Middleware;

/// <summary>
/// Fills settings a caller left unset: <c>max_tokens</c> (default 4096) and, for Ollama, the endpoint's
/// <c>num_ctx</c>, which Ollama would otherwise cap silently at its small default. Caller values always win.
/// </summary>
public sealed class SamplingDefaultsChatClient(IChatClient inner, int defaultMaxTokens, int? numCtx) : DelegatingChatClient(inner)
{
    /// <inheritdoc />
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetResponseAsync(messages, WithDefaults(options), cancellationToken);

    /// <inheritdoc />
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetStreamingResponseAsync(messages, WithDefaults(options), cancellationToken);

    private ChatOptions WithDefaults(ChatOptions? options)
    {
        var result = options?.Clone() ?? new ChatOptions();
        result.MaxOutputTokens ??= defaultMaxTokens;
        if (numCtx is { } ctx && result.AdditionalProperties?.ContainsKey(OllamaOption.NumCtx.Name) != true)
            result.AddOllamaOption(OllamaOption.NumCtx, ctx);
        return result;
    }
}
