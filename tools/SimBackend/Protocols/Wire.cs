using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SelfTaught.SimBackend.Protocols;

/// <summary>A chat request parsed from either protocol's body.</summary>
internal sealed record ParsedChatRequest(
    string? Model,
    IReadOnlyList<SimMessage> Messages,
    bool Stream,
    double? Temperature = null,
    double? TopP = null,
    int? MaxTokens = null,
    long? Seed = null,
    int? N = null,
    IReadOnlyList<string>? Stop = null,
    int? NumCtx = null,
    bool? IncludeUsage = null,
    string? Error = null)
{
    public IReadOnlyList<string> StopSequences => Stop ?? [];

    public static ParsedChatRequest Invalid(string error) => new(null, [], false, Error: error);
}

/// <summary>One generated choice.</summary>
internal sealed record SimChoice(int Index, string Text, string FinishReason, IReadOnlyList<string> Tokens)
{
    public int CompletionTokens => Tokens.Count;
}

/// <summary>Everything a protocol writer needs to answer a chat request.</summary>
internal sealed record SimCompletion(
    string Id,
    string Model,
    DateTimeOffset Created,
    IReadOnlyList<SimChoice> Choices,
    int PromptTokens,
    double LatencyMs,
    double PerTokenMs)
{
    public int CompletionTokens => Choices.Sum(c => c.CompletionTokens);

    /// <summary>Generation time of the longest choice (choices are generated in parallel).</summary>
    public TimeSpan TotalDelay => SimOptions.ComputeDelay(LatencyMs, PerTokenMs, Choices.Max(c => c.CompletionTokens));
}

/// <summary>The wire format of one protocol.</summary>
internal interface IWireProtocol
{
    SimProtocol Kind { get; }

    ParsedChatRequest Parse(string body);

    Task WriteErrorAsync(HttpContext context, int status, SimErrorKind kind, string message, CancellationToken cancellationToken);

    Task WriteCompletionAsync(HttpContext context, ParsedChatRequest request, SimCompletion completion, CancellationToken cancellationToken);

    /// <summary>Status 200 with a body that is not valid JSON (or, streaming, a garbage event/line).</summary>
    Task WriteGarbageAsync(HttpContext context, bool stream, CancellationToken cancellationToken);

    /// <summary>Status 200 and the beginning of a plausible answer; the caller then aborts the connection.</summary>
    Task WritePartialAsync(HttpContext context, bool stream, string model, CancellationToken cancellationToken);
}

/// <summary>Error categories, mapped to each protocol's error shape.</summary>
internal enum SimErrorKind
{
    InvalidRequest,
    Unauthorized,
    ModelNotFound,
    RateLimited,
    ServerError,
    NotSupported,
}

internal static class Wire
{
    public static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private const string FinishingKey = "SelfTaught.SimBackend.Finishing";

    /// <summary>
    /// Registers what to do just before the last bytes of the answer are written (statistics: status code, end of
    /// in-flight). Doing it before, not after, means a client that has its answer never sees stale statistics, and a
    /// client-side concurrency limit is never seen as exceeded at the server.
    /// </summary>
    public static void OnFinishing(HttpContext context, Action finishing) => context.Items[FinishingKey] = finishing;

    /// <summary>Runs the registered finishing action once (later calls do nothing).</summary>
    public static void Finishing(HttpContext context)
    {
        if (context.Items.Remove(FinishingKey, out var finishing)) ((Action)finishing!)();
    }

    public static string Serialize(JsonNode node) => node.ToJsonString(JsonOptions);

    public static async Task WriteJsonAsync(HttpContext context, int status, JsonNode node, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(Serialize(node));
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = bytes.Length;
        Finishing(context);
        await context.Response.Body.WriteAsync(bytes, cancellationToken);
    }

    public static async Task WriteRawAsync(HttpContext context, string text, CancellationToken cancellationToken)
    {
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }

    // JSON helpers: tolerant reads (absent, null or wrong type → null).
    public static JsonElement? Prop(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    public static string? Str(this JsonElement element, string name) =>
        element.Prop(name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    public static double? Dbl(this JsonElement element, string name) =>
        element.Prop(name) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;

    public static long? Lng(this JsonElement element, string name) =>
        element.Prop(name) is { ValueKind: JsonValueKind.Number } v
            ? (v.TryGetInt64(out var l) ? l : (long)v.GetDouble())
            : null;

    public static int? Int(this JsonElement element, string name) =>
        element.Lng(name) is { } l ? (int)Math.Clamp(l, int.MinValue, int.MaxValue) : null;

    public static bool? Bool(this JsonElement element, string name) =>
        element.Prop(name) is { } v && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    /// <summary><c>stop</c> as a string or an array of strings.</summary>
    public static IReadOnlyList<string> StopList(this JsonElement element, string name) => element.Prop(name) switch
    {
        { ValueKind: JsonValueKind.String } s => [s.GetString()!],
        { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray(),
        _ => [],
    };
}

/// <summary>Waits until points of a simulated generation timeline (measured from its start).</summary>
internal sealed class Pacer
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public Task WaitUntilAsync(TimeSpan offset, CancellationToken cancellationToken)
    {
        var remaining = offset - _clock.Elapsed;
        return remaining > TimeSpan.Zero ? Task.Delay(remaining, cancellationToken) : Task.CompletedTask;
    }

    public TimeSpan Elapsed => _clock.Elapsed;
}
