namespace SelfTaught.Inference;

/// <summary>LLM server endpoints, bound from the <c>Inference</c> configuration section.</summary>
public sealed class InferenceOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Inference";

    /// <summary>
    /// Configured endpoints. Default: none, in which case <see cref="EffectiveEndpoints"/> is one Ollama endpoint
    /// named <c>ollama</c> at <c>http://localhost:11434</c>.
    /// </summary>
    public List<EndpointOptions> Endpoints { get; set; } = [];

    /// <summary>The endpoints in use: the configured ones, or the default local Ollama server.</summary>
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

    /// <summary>Name of the environment variable or user secret that holds the API key (never the key itself). Default: none.</summary>
    public string? ApiKeyReference { get; set; }

    /// <summary>The default endpoint: a local Ollama server at its standard address.</summary>
    public static EndpointOptions DefaultOllama() => new() { Name = "ollama", Kind = EndpointKind.Ollama, BaseUrl = "http://localhost:11434" };
}
