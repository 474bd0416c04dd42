using System.Text.Json;
using System.Text.Json.Nodes;
using SelfTaught.SimBackend.Generation;

namespace SelfTaught.SimBackend.Protocols;

/// <summary>
/// OpenAI chat completions: <c>chat.completion</c> JSON, or <c>chat.completion.chunk</c> server-sent events ending with
/// <c>data: [DONE]</c>; with <c>stream_options.include_usage</c> every chunk carries <c>usage: null</c> and one last
/// chunk with empty <c>choices</c> carries the usage, as OpenAI does.
/// </summary>
internal sealed class OpenAIWire : IWireProtocol
{
    public const string SystemFingerprint = "fp_simbackend";

    /// <summary>Tokens per streamed content delta.</summary>
    private const int TokensPerChunk = 3;

    public static readonly OpenAIWire Instance = new();

    public SimProtocol Kind => SimProtocol.OpenAI;

    public ParsedChatRequest Parse(string body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return ParsedChatRequest.Invalid($"We could not parse the JSON body of your request: {e.Message} (simulated)");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return ParsedChatRequest.Invalid("The request body must be a JSON object. (simulated)");
            var messages = root.Prop("messages") is { ValueKind: JsonValueKind.Array } array
                ? array.EnumerateArray().Select(m => new SimMessage(m.Str("role") ?? "user", Content(m.Prop("content")))).ToArray()
                : [];
            var parsed = new ParsedChatRequest(
                root.Str("model"),
                messages,
                root.Bool("stream") ?? false,
                root.Dbl("temperature"),
                root.Dbl("top_p"),
                root.Int("max_completion_tokens") ?? root.Int("max_tokens"),
                root.Lng("seed"),
                root.Int("n"),
                root.StopList("stop"),
                IncludeUsage: root.Prop("stream_options") is { } so ? so.Bool("include_usage") : null);

            if (messages.Length == 0) return parsed with { Error = "'messages' must be a non-empty array. (simulated)" };
            if (parsed.N is < 1 or > 128) return parsed with { Error = $"Invalid 'n': {parsed.N}. Expected a value between 1 and 128. (simulated)" };
            return parsed;
        }
    }

    /// <summary>Message content as a string, or an array of parts whose <c>text</c> parts are joined.</summary>
    private static string Content(JsonElement? content) => content switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString()!,
        { ValueKind: JsonValueKind.Array } parts => string.Concat(parts.EnumerateArray().Select(p => p.Str("text") ?? "")),
        _ => "",
    };

    public Task WriteErrorAsync(HttpContext context, int status, SimErrorKind kind, string message, CancellationToken cancellationToken)
    {
        if (kind == SimErrorKind.NotSupported)
        {
            // llama.cpp's server shape (its answer to n > 1).
            return Wire.WriteJsonAsync(context, status, new JsonObject
            {
                ["error"] = new JsonObject { ["code"] = status, ["message"] = message, ["type"] = "server_error" },
            }, cancellationToken);
        }

        var (type, code) = kind switch
        {
            SimErrorKind.InvalidRequest => ("invalid_request_error", (string?)null),
            SimErrorKind.Unauthorized => ("invalid_request_error", "invalid_api_key"),
            SimErrorKind.ModelNotFound => ("invalid_request_error", "model_not_found"),
            SimErrorKind.RateLimited => ("requests", "rate_limit_exceeded"),
            _ => ("server_error", null),
        };
        return Wire.WriteJsonAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = code },
        }, cancellationToken);
    }

    public Task WriteCompletionAsync(HttpContext context, ParsedChatRequest request, SimCompletion completion, CancellationToken cancellationToken) =>
        request.Stream
            ? WriteStreamAsync(context, request.IncludeUsage == true, completion, cancellationToken)
            : WriteJsonAsync(context, completion, cancellationToken);

    private static async Task WriteJsonAsync(HttpContext context, SimCompletion completion, CancellationToken cancellationToken)
    {
        await new Pacer().WaitUntilAsync(completion.TotalDelay, cancellationToken);
        var choices = new JsonArray();
        foreach (var choice in completion.Choices)
        {
            choices.Add(new JsonObject
            {
                ["index"] = choice.Index,
                ["message"] = new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = choice.Text,
                    ["refusal"] = null,
                    ["annotations"] = new JsonArray(),
                },
                ["logprobs"] = null,
                ["finish_reason"] = choice.FinishReason,
            });
        }

        await Wire.WriteJsonAsync(context, StatusCodes.Status200OK, new JsonObject
        {
            ["id"] = completion.Id,
            ["object"] = "chat.completion",
            ["created"] = completion.Created.ToUnixTimeSeconds(),
            ["model"] = completion.Model,
            ["choices"] = choices,
            ["usage"] = Usage(completion),
            ["service_tier"] = "default",
            ["system_fingerprint"] = SystemFingerprint,
        }, cancellationToken);
    }

    private static async Task WriteStreamAsync(HttpContext context, bool includeUsage, SimCompletion completion, CancellationToken cancellationToken)
    {
        var pacer = new Pacer();
        StartEventStream(context);

        JsonObject Chunk(JsonArray choices)
        {
            var chunk = new JsonObject
            {
                ["id"] = completion.Id,
                ["object"] = "chat.completion.chunk",
                ["created"] = completion.Created.ToUnixTimeSeconds(),
                ["model"] = completion.Model,
                ["service_tier"] = "default",
                ["system_fingerprint"] = SystemFingerprint,
                ["choices"] = choices,
            };
            if (includeUsage) chunk["usage"] = null;
            return chunk;
        }

        static JsonObject Delta(int index, JsonObject delta, string? finishReason) => new()
        {
            ["index"] = index,
            ["delta"] = delta,
            ["logprobs"] = null,
            ["finish_reason"] = finishReason,
        };

        // Time to first token.
        await pacer.WaitUntilAsync(TimeSpan.FromMilliseconds(completion.LatencyMs), cancellationToken);
        foreach (var choice in completion.Choices)
        {
            await SendAsync(context, Chunk([Delta(choice.Index, new JsonObject { ["role"] = "assistant", ["content"] = "", ["refusal"] = null }, null)]), cancellationToken);
        }

        // Content deltas; with n > 1 the choices interleave, as OpenAI's do.
        var chunked = completion.Choices.Select(c => c.Tokens.Chunk(TokensPerChunk).ToArray()).ToArray();
        var emitted = new int[chunked.Length];
        for (var step = 0; step < chunked.Max(c => c.Length); step++)
        {
            for (var i = 0; i < chunked.Length; i++)
            {
                if (step >= chunked[i].Length) continue;
                emitted[i] += chunked[i][step].Length;
                await pacer.WaitUntilAsync(SimOptions.ComputeDelay(completion.LatencyMs, completion.PerTokenMs, emitted[i]), cancellationToken);
                var choice = completion.Choices[i];
                await SendAsync(context, Chunk([Delta(choice.Index, new JsonObject { ["content"] = string.Concat(chunked[i][step]) }, null)]), cancellationToken);
            }
        }

        foreach (var choice in completion.Choices)
        {
            await SendAsync(context, Chunk([Delta(choice.Index, new JsonObject(), choice.FinishReason)]), cancellationToken);
        }

        if (includeUsage)
        {
            var usageChunk = Chunk([]);
            usageChunk["usage"] = Usage(completion);
            await SendAsync(context, usageChunk, cancellationToken);
        }

        Wire.Finishing(context);
        await Wire.WriteRawAsync(context, "data: [DONE]\n\n", cancellationToken);
    }

    private static JsonObject Usage(SimCompletion completion) => new()
    {
        ["prompt_tokens"] = completion.PromptTokens,
        ["completion_tokens"] = completion.CompletionTokens,
        ["total_tokens"] = completion.PromptTokens + completion.CompletionTokens,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = 0, ["audio_tokens"] = 0 },
        ["completion_tokens_details"] = new JsonObject
        {
            ["reasoning_tokens"] = 0,
            ["audio_tokens"] = 0,
            ["accepted_prediction_tokens"] = 0,
            ["rejected_prediction_tokens"] = 0,
        },
    };

    private static void StartEventStream(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
    }

    private static Task SendAsync(HttpContext context, JsonNode chunk, CancellationToken cancellationToken) =>
        Wire.WriteRawAsync(context, "data: " + Wire.Serialize(chunk) + "\n\n", cancellationToken);

    public async Task WriteGarbageAsync(HttpContext context, bool stream, CancellationToken cancellationToken)
    {
        if (stream)
        {
            StartEventStream(context);
            Wire.Finishing(context);
            await Wire.WriteRawAsync(context, "data: {\"id\":\"chatcmpl-sim\",\"choices\":[{\"delta\":<simulated garbage>\n\n", cancellationToken);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        Wire.Finishing(context);
        await Wire.WriteRawAsync(context, "{\"id\":\"chatcmpl-sim\",\"object\":\"chat.completion\",\"choices\":[{\"message\": <simulated garbage, not JSON>", cancellationToken);
    }

    public async Task WritePartialAsync(HttpContext context, bool stream, string model, CancellationToken cancellationToken)
    {
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (stream)
        {
            StartEventStream(context);
            Wire.Finishing(context);
            await Wire.WriteRawAsync(context,
                $"data: {{\"id\":\"chatcmpl-sim-dropped\",\"object\":\"chat.completion.chunk\",\"created\":{created},\"model\":{JsonValue.Create(model).ToJsonString()},\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"{SimText.SimulatedStatement} \"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n",
                cancellationToken);
            return;
        }

        var full = $"{{\"id\":\"chatcmpl-sim-dropped\",\"object\":\"chat.completion\",\"created\":{created},\"model\":{JsonValue.Create(model).ToJsonString()},\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"{SimText.SimulatedStatement} The connection drops before this answer is complete.\"}},\"logprobs\":null,\"finish_reason\":\"stop\"}}]}}";
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(full);
        Wire.Finishing(context);
        await Wire.WriteRawAsync(context, full[..(full.Length / 2)], cancellationToken);
    }
}
