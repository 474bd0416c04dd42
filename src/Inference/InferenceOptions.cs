namespace SelfTaught.Inference;

/// <summary>LLM server endpoints, bound from the <c>Inference</c> configuration section.</summary>
public sealed class InferenceOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Inference";

    /// <summary>
    /// Configured endpoints (read-only on the Settings page). Default: none, in which case <see cref="EffectiveEndpoints"/>
    /// is one Ollama endpoint named <c>ollama</c> at <c>http://localhost:11434</c> — until an endpoint is stored on the
    /// Settings page, which replaces that built-in default.
    /// </summary>
    public List<EndpointOptions> Endpoints { get; set; } = [];

    /// <summary>Retry policy shared by every endpoint.</summary>
    public RetryOptions Retry { get; set; } = new();

    /// <summary>Seconds between health checks of each endpoint. Default: 30.</summary>
    public int HealthCheckIntervalSeconds { get; set; } = 30;

    /// <summary>Timeout of one health probe in seconds. Default: 10.</summary>
    public int HealthCheckTimeoutSeconds { get; set; } = 10;

    /// <summary><c>max_tokens</c> sent when a caller sets none. Default: 4096.</summary>
    public int DefaultMaxTokens { get; set; } = 4096;

    /// <summary>The endpoints from configuration, or the default local Ollama server when none is configured (stored endpoints also replace it).</summary>
    public IReadOnlyList<EndpointOptions> EffectiveEndpoints => Endpoints.Count > 0 ? Endpoints : [EndpointOptions.DefaultOllama()];
}

/// <summary>Protocol spoken by an endpoint.</summary>
public enum EndpointKind
{
    /// <summary>Ollama's native API (<c>/api/chat</c>, <c>/api/tags</c>).</summary>
    Ollama,
    /// <summary>OpenAI chat completions (<c>/v1/chat/completions</c>): vLLM, llama.cpp server, SGLang, OpenAI.</summary>
    OpenAICompatible,
}

/// <summary>One LLM server.</summary>
public sealed class EndpointOptions
{
    /// <summary>Unique name used to refer to the endpoint. Required.</summary>
    public string Name { get; set; } = "";

    /// <summary>Wire protocol. Default: <see cref="EndpointKind.Ollama"/>.</summary>
    public EndpointKind Kind { get; set; } = EndpointKind.Ollama;

    /// <summary>Absolute http(s) URL of the server, e.g. <c>http://localhost:11434</c> or <c>http://gpu-box:8000/v1</c>. Required.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>Model used when a request names none. Default: none.</summary>
    public string? DefaultModel { get; set; }

    /// <summary>Requests in flight at once toward this endpoint, shared by every stage. Default: 4.</summary>
    public int MaxConcurrentRequests { get; set; } = 4;

    /// <summary>Per-request timeout in seconds, sized for slow local models. Default: 600.</summary>
    public int RequestTimeoutSeconds { get; set; } = 600;

    /// <summary>
    /// Where the API key is, never the key itself: an environment variable whose name ends in <c>_API_KEY</c> or
    /// <c>_TOKEN</c> (e.g. <c>VLLM_API_KEY</c>, <c>HF_TOKEN</c>), or a configuration key <c>Inference:ApiKeys:&lt;name&gt;</c>
    /// (user secrets, appsettings). Sent as <c>Authorization: Bearer</c> on chats, health checks and probes. Default: none.
    /// </summary>
    public string? ApiKeyReference { get; set; }

    /// <summary>Ollama context window (<c>num_ctx</c>) sent with every request; Ollama's own default silently truncates long judge prompts. Default: none (server default).</summary>
    public int? NumCtx { get; set; }

    /// <summary>Whether the server accepts <c>n</c> &gt; 1 (vLLM, SGLang, OpenAI do; llama.cpp's server and Ollama do not). Default: null, probed by the health check for OpenAI-compatible servers and false for Ollama.</summary>
    public bool? AcceptsN { get; set; }

    /// <summary>
    /// OpenAI-compatible endpoints: the request field carrying the token limit, <c>max_tokens</c> (default: understood by
    /// vLLM, llama.cpp, SGLang, Ollama's <c>/v1</c>, LM Studio) or <c>max_completion_tokens</c> (OpenAI's newer name, which
    /// its reasoning models require and older servers ignore). Configuration only; stored endpoints use the default.
    /// </summary>
    public string MaxTokensField { get; set; } = MaxTokens;

    /// <summary>Value of <see cref="MaxTokensField"/> that sends <c>max_tokens</c>.</summary>
    public const string MaxTokens = "max_tokens";

    /// <summary>Value of <see cref="MaxTokensField"/> that sends <c>max_completion_tokens</c>.</summary>
    public const string MaxCompletionTokens = "max_completion_tokens";

    /// <summary>The default endpoint: a local Ollama server at its standard address.</summary>
    public static EndpointOptions DefaultOllama() => new() { Name = "ollama", Kind = EndpointKind.Ollama, BaseUrl = "http://localhost:11434" };
}

/// <summary>Retries on 429, 5xx, timeouts and refused or dropped connections, with exponential backoff and jitter.</summary>
public sealed class RetryOptions
{
    /// <summary>Retries after the first attempt. Default: 4.</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>Delay before the first retry in milliseconds, doubled for each further one. Default: 1000.</summary>
    public int BaseDelayMs { get; set; } = 1000;

    /// <summary>Upper bound of one backoff delay in milliseconds. Default: 30000.</summary>
    public int MaxDelayMs { get; set; } = 30_000;

    /// <summary>Longest <c>Retry-After</c> honoured, in seconds; a server asking for longer fails the call. Default: 120.</summary>
    public int MaxRetryAfterSeconds { get; set; } = 120;
}
