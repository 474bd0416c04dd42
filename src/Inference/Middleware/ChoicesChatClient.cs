using System.ClientModel.Primitives;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.AI;
using ChatCompletion = OpenAI.Chat.ChatCompletion;
using ChatCompletionOptions = OpenAI.Chat.ChatCompletionOptions;

namespace SelfTaught.Inference.Middleware;

/// <summary>
/// For OpenAI-compatible endpoints: several completions of one prompt in ONE request (<c>n</c>), so the server
/// processes the prompt once. A caller asks for them with <see cref="CountKey"/> in
/// <see cref="ChatOptions.AdditionalProperties"/>; this removes the key, sends <c>n</c> through the request's JSON patch
/// (keeping a caller's <see cref="ChatOptions.RawRepresentationFactory"/>, like <see cref="MaxTokensFieldChatClient"/>),
/// and — because Microsoft.Extensions.AI exposes only the first choice — reads every choice from the raw
/// <c>ChatCompletion</c> into the response's additional properties: <see cref="TextsKey"/> and
/// <see cref="FinishReasonsKey"/>, by choice index. The response's usage covers all choices. Sits inside the retry,
/// limiter, timeout and accounting middleware, so those treat the batch as the single request it is.
/// </summary>
/// <remarks>The keys equal Core's <c>ChatChoices</c> constants; Inference references no project, so a test checks them.</remarks>
public sealed class ChoicesChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    /// <summary>Key of the number of choices to request (<c>int</c>) in <see cref="ChatOptions.AdditionalProperties"/>.</summary>
    public const string CountKey = "selftaught.n";

    /// <summary>Key of every choice's text (<c>string[]</c>, by choice index) in <see cref="ChatResponse.AdditionalProperties"/>.</summary>
    public const string TextsKey = "selftaught.choice_texts";

    /// <summary>Key of every choice's finish reason (<c>string?[]</c>, by choice index) in <see cref="ChatResponse.AdditionalProperties"/>.</summary>
    public const string FinishReasonsKey = "selftaught.choice_finish_reasons";

    /// <summary>What llama.cpp's server answers (HTTP 500) to <c>n</c> &gt; 1.</summary>
    internal const string LlamaCppRefusal = "Only one completion choice is allowed";

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var count = RequestedCount(options);
        if (count == 1) return await base.GetResponseAsync(messages, WithoutCount(options), cancellationToken);

        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, WithN(options!, count), cancellationToken);
        }
        catch (Exception ex) when (IsLlamaCppRefusal(ex))
        {
            // A 5xx is retried by default; this one never succeeds, so it becomes a non-transient failure that says why.
            throw new ChoicesNotAcceptedException(
                $"the server refused n = {count} choices in one request ({LlamaCppRefusal}, as llama.cpp's server answers): " +
                "set AcceptsN to false for this endpoint so several samples are requested one at a time", ex);
        }

        if (response.RawRepresentation is not ChatCompletion completion)
            throw new InvalidOperationException(
                $"Asked for {count} choices, but the OpenAI client's response is a {response.RawRepresentation?.GetType().Name ?? "null"}, " +
                "not a ChatCompletion, so the other choices cannot be read.");
        var choices = ReadChoices(ModelReaderWriter.Write(completion));
        if (choices.Count != count)
            throw new ChoicesNotAcceptedException(
                $"asked for n = {count} choices, the server returned {choices.Count}: it ignores n; set AcceptsN to false for this endpoint");
        var properties = response.AdditionalProperties ??= [];
        properties[TextsKey] = choices.Select(c => c.Text).ToArray();
        properties[FinishReasonsKey] = choices.Select(c => c.FinishReason).ToArray();
        return response;
    }

    /// <inheritdoc />
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var count = RequestedCount(options);
        // Streamed choices arrive interleaved and M.E.AI merges them into one message; nothing would tell them apart.
        if (count > 1) throw new ChoicesNotAcceptedException(StreamingProblem(count));
        return base.GetStreamingResponseAsync(messages, WithoutCount(options), cancellationToken);
    }

    /// <summary>
    /// The number of choices <paramref name="options"/> asks for: the value under <see cref="CountKey"/>, or 1 when
    /// there is none.
    /// </summary>
    /// <exception cref="ArgumentException">The value is not a whole number of at least 1.</exception>
    public static int RequestedCount(ChatOptions? options)
    {
        if (options?.AdditionalProperties?.TryGetValue(CountKey, out var value) != true) return 1;
        long? count = value switch
        {
            int i => i,
            long l => l,
            short s => s,
            JsonElement { ValueKind: JsonValueKind.Number } json when json.TryGetInt64(out var l) => l,
            _ => null,
        };
        return count is >= 1 and <= int.MaxValue
            ? (int)count.Value
            : throw new ArgumentException(
                $"ChatOptions.AdditionalProperties[\"{CountKey}\"] must be a whole number of choices of at least 1; got " +
                $"{(value is null ? "null" : $"'{Convert.ToString(value, CultureInfo.InvariantCulture)}' ({value.GetType().Name})")}.",
                nameof(options));
    }

    /// <summary>
    /// Every choice of a <c>chat.completion</c> JSON document (<c>choices[]</c>), ordered by <c>index</c>: its text
    /// (empty when <c>content</c> is null, e.g. a refusal or tool call) and finish reason.
    /// </summary>
    /// <exception cref="FormatException">No <c>choices</c> array, or indices that are not exactly 0 … count − 1.</exception>
    public static IReadOnlyList<(string Text, string? FinishReason)> ReadChoices(BinaryData completionJson)
    {
        using var document = JsonDocument.Parse(completionJson);
        if (!document.RootElement.TryGetProperty("choices", out var array) || array.ValueKind != JsonValueKind.Array)
            throw new FormatException("The chat completion has no \"choices\" array.");
        var choices = new List<(int Index, string Text, string? FinishReason)>();
        foreach (var choice in array.EnumerateArray())
        {
            var index = choice.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number ? i.GetInt32() : choices.Count;
            var text = choice.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object
                       && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
                ? content.GetString()!
                : "";
            var finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            choices.Add((index, text, finish));
        }
        choices.Sort((a, b) => a.Index.CompareTo(b.Index));
        for (var k = 0; k < choices.Count; k++)
            if (choices[k].Index != k)
                throw new FormatException($"The chat completion's choice indices are {string.Join(", ", choices.Select(c => c.Index))}, not 0 … {choices.Count - 1}.");
        return [.. choices.Select(c => (c.Text, c.FinishReason))];
    }

    /// <summary>Why a streaming call cannot ask for several choices.</summary>
    internal static string StreamingProblem(int count) =>
        $"n = {count} choices need a non-streaming call (streamed choices cannot be told apart); nothing was sent";

    /// <summary>A copy of <paramref name="options"/> without <see cref="CountKey"/>; the same instance when it has none.</summary>
    internal static ChatOptions? WithoutCount(ChatOptions? options)
    {
        if (options?.AdditionalProperties?.ContainsKey(CountKey) != true) return options;
        var result = options.Clone();
        var properties = new AdditionalPropertiesDictionary(options.AdditionalProperties);
        properties.Remove(CountKey);
        result.AdditionalProperties = properties.Count > 0 ? properties : null;
        return result;
    }

    private static ChatOptions WithN(ChatOptions options, int count)
    {
        var result = WithoutCount(options)!;
        var callerFactory = options.RawRepresentationFactory;
        result.RawRepresentationFactory = client =>
        {
            var raw = callerFactory?.Invoke(client);
            // Not OpenAI options: the client ignores them (and n with them); the count check after the call says so.
            if (raw is not null and not ChatCompletionOptions) return raw;
            var completion = (ChatCompletionOptions?)raw ?? new ChatCompletionOptions();
#pragma warning disable SCME0001 // JsonPatch is experimental in OpenAI 2.x; ChatCompletionOptions.N is internal (STACK.md gotcha 17).
            completion.Patch.Set("$.n"u8, count);
#pragma warning restore SCME0001
            return completion;
        };
        return result;
    }

    private static bool IsLlamaCppRefusal(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
            if (e is BackendHttpException { StatusCode: HttpStatusCode.InternalServerError } http
                && http.Body.Contains(LlamaCppRefusal, StringComparison.OrdinalIgnoreCase))
                return true;
        return false;
    }
}

/// <summary>
/// A request for several choices (<c>n</c> &gt; 1) that the endpoint cannot serve: it does not accept <c>n</c>
/// (Ollama, llama.cpp's server, a server that ignores it) or the call streams. Never retried.
/// </summary>
public sealed class ChoicesNotAcceptedException(string message, Exception? inner = null) : NotSupportedException(message, inner);
