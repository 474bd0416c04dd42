using System.Net;

namespace SelfTaught.Inference;

/// <summary>A non-success HTTP answer from an LLM server, with what the server said and when it asked us to come back.</summary>
public sealed class BackendHttpException(HttpStatusCode statusCode, string? reason, string body, TimeSpan? retryAfter)
    : HttpRequestException($"HTTP {(int)statusCode} {reason}{(body.Length > 0 ? ": " + body : "")}", null, statusCode)
{
    /// <summary>Start of the response body (at most 500 characters).</summary>
    public string Body { get; } = body;

    /// <summary>The server's <c>Retry-After</c>, if it sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>A request that ran longer than the endpoint's request timeout.</summary>
public sealed class RequestTimeoutException(TimeSpan timeout)
    : TimeoutException($"no complete answer within the request timeout of {timeout.TotalSeconds:0.#} s")
{
    /// <summary>The timeout that expired.</summary>
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>An LLM call that failed after its retries; the message names the endpoint, its URL, the model and the problem.</summary>
public sealed class InferenceException(string endpoint, string baseUrl, string model, string problem, bool transient, Exception inner)
    : Exception($"Endpoint '{endpoint}' ({baseUrl}), model '{model}': {problem}", inner)
{
    /// <summary>Endpoint name.</summary>
    public string Endpoint { get; } = endpoint;

    /// <summary>Model requested.</summary>
    public string Model { get; } = model;

    /// <summary>The last failure was of a kind that retrying might fix (429, 5xx, timeout, connection).</summary>
    public bool Transient { get; } = transient;
}
