using System.Collections.Concurrent;

namespace SelfTaught.SimBackend;

/// <summary>Wire protocol of a request.</summary>
public enum SimProtocol
{
    /// <summary>OpenAI-compatible (<c>/v1/...</c>).</summary>
    OpenAI,

    /// <summary>Ollama native (<c>/api/...</c>).</summary>
    Ollama,
}

/// <summary>Route keys used by <see cref="SimStatistics"/>.</summary>
public static class SimRoutes
{
    public const string OpenAIChat = "/v1/chat/completions";
    public const string OpenAIModels = "/v1/models";
    public const string OllamaChat = "/api/chat";
    public const string OllamaTags = "/api/tags";
    public const string OllamaVersion = "/api/version";
    public const string Root = "/";

    /// <summary>Key for requests to a path the server does not serve.</summary>
    public const string Unmatched = "(unmatched)";
}

/// <summary>One message of a chat request as received.</summary>
public sealed record SimMessage(string Role, string Content);

/// <summary>A request as the server received it, with the chat parameters parsed from its body.</summary>
public sealed class ReceivedRequest
{
    private int _statusCode;

    /// <summary>Arrival order (1-based, across all routes).</summary>
    public required long Sequence { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }
    public required string Method { get; init; }

    /// <summary>Route key (see <see cref="SimRoutes"/>).</summary>
    public required string Route { get; init; }

    /// <summary>Raw path as requested.</summary>
    public required string Path { get; init; }

    public SimProtocol? Protocol { get; init; }

    /// <summary>True for the chat routes (<c>/v1/chat/completions</c>, <c>/api/chat</c>).</summary>
    public bool IsChat => Route is SimRoutes.OpenAIChat or SimRoutes.OllamaChat;

    public string? Model { get; init; }

    /// <summary>Whether a streamed answer was asked for (Ollama's default is true).</summary>
    public bool Stream { get; init; }

    public double? Temperature { get; init; }
    public double? TopP { get; init; }

    /// <summary>OpenAI <c>max_tokens</c> or <c>max_completion_tokens</c>; Ollama <c>options.num_predict</c>.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>OpenAI <c>seed</c>; Ollama <c>options.seed</c>.</summary>
    public long? Seed { get; init; }

    /// <summary>OpenAI <c>n</c> (null when absent).</summary>
    public int? N { get; init; }

    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Ollama <c>options.num_ctx</c>.</summary>
    public int? NumCtx { get; init; }

    /// <summary>OpenAI <c>stream_options.include_usage</c>.</summary>
    public bool? IncludeUsage { get; init; }

    public IReadOnlyList<SimMessage> Messages { get; init; } = [];

    /// <summary>The <c>Authorization</c> header, if any.</summary>
    public string? Authorization { get; init; }

    /// <summary>The request body as received (empty for GET).</summary>
    public string Body { get; init; } = "";

    /// <summary>The injected fault this request got, if any.</summary>
    public SimFaultKind? Fault { get; internal set; }

    /// <summary>Status code of the answer (0 while the request is being answered or when the connection was dropped).</summary>
    public int StatusCode
    {
        get => Volatile.Read(ref _statusCode);
        internal set => Volatile.Write(ref _statusCode, value);
    }
}

/// <summary>Server-side statistics: request counts per route, chat concurrency, and the requests received.</summary>
public sealed class SimStatistics
{
    private readonly ConcurrentDictionary<string, long> _byRoute = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly Func<int> _maxRecorded;
    private long _total;
    private int _inFlight;
    private int _maxInFlight;
    private long _sequence;

    internal SimStatistics(Func<int> maxRecorded) => _maxRecorded = maxRecorded;

    /// <summary>All requests since start (or the last <see cref="Reset"/>).</summary>
    public long TotalRequests => Interlocked.Read(ref _total);

    /// <summary>Requests per route key (see <see cref="SimRoutes"/>).</summary>
    public IReadOnlyDictionary<string, long> RequestsByRoute => new Dictionary<string, long>(_byRoute, StringComparer.Ordinal);

    /// <summary>Requests to one route key (0 if none).</summary>
    public long RequestsTo(string route) => _byRoute.TryGetValue(route, out var count) ? count : 0;

    /// <summary>Chat requests being answered right now.</summary>
    public int InFlightChatRequests => Volatile.Read(ref _inFlight);

    /// <summary>The most chat requests that were in flight at the same time.</summary>
    public int MaxConcurrentChatRequests => Volatile.Read(ref _maxInFlight);

    /// <summary>Received requests, oldest first (the newest <see cref="SimOptions.MaxRecordedRequests"/> are kept).</summary>
    public IReadOnlyList<ReceivedRequest> Requests => _requests.ToArray();

    /// <summary>Received chat requests, oldest first.</summary>
    public IReadOnlyList<ReceivedRequest> ChatRequests => _requests.Where(r => r.IsChat).ToArray();

    /// <summary>Clears counts and recorded requests; the maximum concurrency restarts from the current in-flight count.</summary>
    public void Reset()
    {
        _byRoute.Clear();
        _requests.Clear();
        Interlocked.Exchange(ref _total, 0);
        Volatile.Write(ref _maxInFlight, InFlightChatRequests);
    }

    /// <summary>Waits until at least <paramref name="count"/> chat requests are in flight (for tests; no sleeps needed).</summary>
    public async Task WaitForInFlightChatRequestsAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        while (InFlightChatRequests < count)
        {
            try
            {
                await Task.Delay(5, cts.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Only {InFlightChatRequests} of {count} chat requests were in flight after {timeout}.");
            }
        }
    }

    internal long NextSequence() => Interlocked.Increment(ref _sequence);

    internal void Count(string route)
    {
        Interlocked.Increment(ref _total);
        _byRoute.AddOrUpdate(route, 1, (_, c) => c + 1);
    }

    internal void Record(ReceivedRequest request)
    {
        var max = _maxRecorded();
        if (max <= 0) return;
        _requests.Enqueue(request);
        while (_requests.Count > max && _requests.TryDequeue(out _))
        {
        }
    }

    internal void EnterChat()
    {
        var now = Interlocked.Increment(ref _inFlight);
        var seen = Volatile.Read(ref _maxInFlight);
        while (now > seen)
        {
            var previous = Interlocked.CompareExchange(ref _maxInFlight, now, seen);
            if (previous == seen) break;
            seen = previous;
        }
    }

    internal void ExitChat() => Interlocked.Decrement(ref _inFlight);
}
