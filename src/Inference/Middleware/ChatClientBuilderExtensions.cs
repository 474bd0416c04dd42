using Microsoft.Extensions.AI;

namespace SelfTaught.Inference.Middleware;

/// <summary><c>UseXxx()</c> registrations of SelfTaught's chat client middleware.</summary>
public static class ChatClientBuilderExtensions
{
    /// <summary>
    /// Fails a request for several choices (<c>n</c> &gt; 1) at once, sending nothing, when the endpoint does not accept
    /// <c>n</c> or the call streams; add it outermost.
    /// </summary>
    public static ChatClientBuilder UseChoicesGate(this ChatClientBuilder builder, EndpointState endpoint, string model) =>
        builder.Use(inner => new ChoicesGateChatClient(inner, endpoint, model));

    /// <summary>
    /// OpenAI-compatible endpoints only: sends the requested number of choices as <c>n</c> and returns every choice's
    /// text and finish reason in the response's additional properties; add it inside retries and limits.
    /// </summary>
    public static ChatClientBuilder UseChoices(this ChatClientBuilder builder) =>
        builder.Use(inner => new ChoicesChatClient(inner));

    /// <summary>Outstanding-request counting, latency and usage accounting, and endpoint-naming errors.</summary>
    public static ChatClientBuilder UseEndpointCall(this ChatClientBuilder builder, EndpointState endpoint, string model) =>
        builder.Use(inner => new EndpointCallChatClient(inner, endpoint, model));

    /// <summary>Retries transient failures with backoff and jitter, honouring <c>Retry-After</c>.</summary>
    public static ChatClientBuilder UseRetry(this ChatClientBuilder builder, RetryOptions options) =>
        builder.Use(inner => new RetryingChatClient(inner, options));

    /// <summary>At most <paramref name="limiter"/>'s limit of requests in flight; share the limiter to share the limit.</summary>
    public static ChatClientBuilder UseConcurrencyLimit(this ChatClientBuilder builder, ConcurrencyLimiter limiter) =>
        builder.Use(inner => new ConcurrencyLimitingChatClient(inner, limiter));

    /// <summary>Cancels an attempt after <paramref name="timeout"/> with a retryable <see cref="RequestTimeoutException"/>.</summary>
    public static ChatClientBuilder UseRequestTimeout(this ChatClientBuilder builder, TimeSpan timeout) =>
        builder.Use(inner => new RequestTimeoutChatClient(inner, timeout));

    /// <summary>Default <c>max_tokens</c> and Ollama <c>num_ctx</c> for requests that set none.</summary>
    public static ChatClientBuilder UseSamplingDefaults(this ChatClientBuilder builder, int defaultMaxTokens, int? numCtx) =>
        builder.Use(inner => new SamplingDefaultsChatClient(inner, defaultMaxTokens, numCtx));

    /// <summary>
    /// OpenAI-compatible endpoints only: sends the token limit as <c>max_tokens</c> when <paramref name="field"/> says so
    /// (the OpenAI client would send <c>max_completion_tokens</c>, which many local servers ignore).
    /// </summary>
    public static ChatClientBuilder UseMaxTokensField(this ChatClientBuilder builder, string field) =>
        field == EndpointOptions.MaxTokens ? builder.Use(inner => new MaxTokensFieldChatClient(inner)) : builder;
}
