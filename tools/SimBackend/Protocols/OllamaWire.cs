using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SelfTaught.SimBackend.Generation;

namespace SelfTaught.SimBackend.Protocols;

/// <summary>
/// Ollama <c>/api/chat</c>: one JSON object, or (the default, <c>stream</c> absent or true) NDJSON lines with partial
/// <c>message.content</c> and <c>done:false</c>, then a <c>done:true</c> line with the counts and durations (ns).
/// </summary>
internal sealed class OllamaWire : IWireProtocol
{
    private const int TokensPerChunk = 2;

    public static readonly OllamaWire Instance = new();

    public SimProtocol Kind => SimProtocol.Ollama;

    public ParsedChatRequest Parse(string body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return ParsedChatRequest.Invalid($"invalid JSON: {e.Message} (simulated)");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return ParsedChatRequest.Invalid("request body must be a JSON object (simulated)");
            var messages = root.Prop("messages") is { ValueKind: JsonValueKind.Array } array
                ? array.EnumerateArray().Select(m => new SimMessage(m.Str("role") ?? "user", m.Str("content") ?? "")).ToArray()
                : [];
            var options = root.Prop("options") ?? default;
            return new ParsedChatRequest(
                root.Str("model"),
                messages,
                root.Bool("stream") ?? true, // Ollama streams unless told not to
                options.Dbl("temperature"),
                options.Dbl("top_p"),
                options.Int("num_predict"),
                options.Lng("seed"),
                null,
                options.StopList("stop"),
                options.Int("num_ctx"));
        }
    }

    public Task WriteErrorAsync(HttpContext context, int status, SimErrorKind kind, string message, CancellationToken cancellationToken) =>
        Wire.WriteJsonAsync(context, status, new JsonObject { ["error"] = message }, cancellationToken);

    public Task WriteCompletionAsync(HttpContext context, ParsedChatRequest request, SimCompletion completion, CancellationToken cancellationToken) =>
        request.Stream
            ? WriteStreamAsync(context, completion, cancellationToken)
            : WriteJsonAsync(context, completion, cancellationToken);

    private static async Task WriteJsonAsync(HttpContext context, SimCompletion completion, CancellationToken cancellationToken)
    {
        var pacer = new Pacer();
        await pacer.WaitUntilAsync(completion.TotalDelay, cancellationToken);
        var choice = completion.Choices[0];
        var done = Line(completion, choice.Text, done: true);
        AddDoneFields(done, completion, choice, pacer.Elapsed);
        await Wire.WriteJsonAsync(context, StatusCodes.Status200OK, done, cancellationToken);
    }

    private static async Task WriteStreamAsync(HttpContext context, SimCompletion completion, CancellationToken cancellationToken)
    {
        var pacer = new Pacer();
        StartNdjson(context);
        var choice = completion.Choices[0];
        await pacer.WaitUntilAsync(TimeSpan.FromMilliseconds(completion.LatencyMs), cancellationToken);
        var emitted = 0;
        foreach (var chunk in choice.Tokens.Chunk(TokensPerChunk))
        {
            emitted += chunk.Length;
            await pacer.WaitUntilAsync(SimOptions.ComputeDelay(completion.LatencyMs, completion.PerTokenMs, emitted), cancellationToken);
            await SendAsync(context, Line(completion, string.Concat(chunk), done: false), cancellationToken);
        }

        var done = Line(completion, "", done: true);
        AddDoneFields(done, completion, choice, pacer.Elapsed);
        Wire.Finishing(context);
        await SendAsync(context, done, cancellationToken);
    }

    private static JsonObject Line(SimCompletion completion, string content, bool done) => new()
    {
        ["model"] = completion.Model,
        ["created_at"] = CreatedAt(DateTimeOffset.UtcNow),
        ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
        ["done"] = done,
    };

    private static void AddDoneFields(JsonObject line, SimCompletion completion, SimChoice choice, TimeSpan elapsed)
    {
        const long nsPerMs = 1_000_000;
        var promptEval = (long)(completion.LatencyMs * nsPerMs);
        var eval = (long)(completion.PerTokenMs * choice.CompletionTokens * nsPerMs);
        const long load = 1_000_000; // 1 ms: the model is "already loaded"
        line["done_reason"] = choice.FinishReason;
        line["total_duration"] = Math.Max(elapsed.Ticks * 100, load + promptEval + eval);
        line["load_duration"] = load;
        line["prompt_eval_count"] = completion.PromptTokens;
        line["prompt_eval_duration"] = promptEval;
        line["eval_count"] = choice.CompletionTokens;
        line["eval_duration"] = eval;
    }

    /// <summary>RFC 3339 with sub-second digits, as Ollama writes it.</summary>
    internal static string CreatedAt(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static void StartNdjson(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/x-ndjson";
    }

    private static Task SendAsync(HttpContext context, JsonNode line, CancellationToken cancellationToken) =>
        Wire.WriteRawAsync(context, Wire.Serialize(line) + "\n", cancellationToken);

    public async Task WriteGarbageAsync(HttpContext context, bool stream, CancellationToken cancellationToken)
    {
        if (stream)
        {
            StartNdjson(context);
            Wire.Finishing(context);
            await Wire.WriteRawAsync(context, "{\"model\":\"sim\",\"message\":{\"content\": <simulated garbage>\n", cancellationToken);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        Wire.Finishing(context);
        await Wire.WriteRawAsync(context, "{\"model\":\"sim\",\"message\": <simulated garbage, not JSON>", cancellationToken);
    }

    public async Task WritePartialAsync(HttpContext context, bool stream, string model, CancellationToken cancellationToken)
    {
        var now = CreatedAt(DateTimeOffset.UtcNow);
        if (stream)
        {
            StartNdjson(context);
            Wire.Finishing(context);
            await Wire.WriteRawAsync(context,
                Wire.Serialize(new JsonObject
                {
                    ["model"] = model,
                    ["created_at"] = now,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = SimText.SimulatedStatement + " " },
                    ["done"] = false,
                }) + "\n",
                cancellationToken);
            return;
        }

        var full = Wire.Serialize(new JsonObject
        {
            ["model"] = model,
            ["created_at"] = now,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = SimText.SimulatedStatement + " The connection drops before this answer is complete." },
            ["done"] = true,
            ["done_reason"] = "stop",
        });
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(full);
        Wire.Finishing(context);
        await Wire.WriteRawAsync(context, full[..(full.Length / 2)], cancellationToken);
    }
}
