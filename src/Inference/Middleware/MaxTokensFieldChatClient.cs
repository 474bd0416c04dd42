using Microsoft.Extensions.AI;
using ChatCompletionOptions = OpenAI.Chat.ChatCompletionOptions;

namespace SelfTaught.Inference.Middleware;

/// <summary>
/// For OpenAI-compatible endpoints: the OpenAI .NET client sends <see cref="ChatOptions.MaxOutputTokens"/> as
/// <c>max_completion_tokens</c>, which older llama.cpp servers, Ollama's <c>/v1</c>, LM Studio and llama-cpp-python
/// ignore (answers then run to the server's own limit). This moves the limit to <c>max_tokens</c> through the request's
/// JSON patch, so exactly one of the two fields is sent. A <see cref="ChatOptions.RawRepresentationFactory"/> set by the
/// caller is kept: the options it returns are patched.
/// </summary>
public sealed class MaxTokensFieldChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    /// <inheritdoc />
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetResponseAsync(messages, WithMaxTokens(options), cancellationToken);

    /// <inheritdoc />
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        base.GetStreamingResponseAsync(messages, WithMaxTokens(options), cancellationToken);

    private static ChatOptions? WithMaxTokens(ChatOptions? options)
    {
        if (options?.MaxOutputTokens is not { } maxTokens) return options;
        var result = options.Clone();
        result.MaxOutputTokens = null;
        var callerFactory = options.RawRepresentationFactory;
        result.RawRepresentationFactory = client =>
        {
            var raw = callerFactory?.Invoke(client);
            // Not OpenAI options: the client ignores them (and with them this limit); nothing here to patch.
            if (raw is not null and not ChatCompletionOptions) return raw;
            var completion = (ChatCompletionOptions?)raw ?? new ChatCompletionOptions();
#pragma warning disable SCME0001 // JsonPatch is experimental in OpenAI 2.x; it is the only way to set max_tokens (STACK.md gotcha 17).
            completion.Patch.Set("$.max_tokens"u8, maxTokens);
#pragma warning restore SCME0001
            return completion;
        };
        return result;
    }
}
