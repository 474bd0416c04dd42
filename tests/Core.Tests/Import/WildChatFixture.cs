using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace SelfTaught.Core.Tests.Import;

/// <summary>
/// Conversations in the published schema of <c>allenai/WildChat-1M</c> (dataset card <c>dataset_info.features</c>),
/// written as parquet with Parquet.Net (lists of structs, nested structs, field names with '/' and '-',
/// timestamp[us, tz=UTC]) and as JSON lines, so the reader is tested against the real layout.
/// </summary>
internal static class WildChatFixture
{
    private static readonly string[] ModerationCategories =
    [
        "harassment", "harassment/threatening", "harassment_threatening", "hate", "hate/threatening", "hate_threatening",
        "self-harm", "self-harm/instructions", "self-harm/intent", "self_harm", "self_harm_instructions", "self_harm_intent",
        "sexual", "sexual/minors", "sexual_minors", "violence", "violence/graphic", "violence_graphic",
    ];

    private static readonly string[] DetoxifyScores =
        ["identity_attack", "insult", "obscene", "severe_toxicity", "sexual_explicit", "threat", "toxicity"];

    public static ParquetSchema Schema { get; } = BuildSchema();

    private static ParquetSchema BuildSchema()
    {
        static StructField Header() => new("header", new DataField<string>("accept-language", true), new DataField<string>("user-agent", true));
        static DateTimeDataField Timestamp() => new("timestamp", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: true);
        return new ParquetSchema(
            new DataField<string>("conversation_hash", true),
            new DataField<string>("model", true),
            Timestamp(),
            new ListField("conversation", new StructField("element",
                new DataField<string>("content", true),
                new DataField<string>("country", true),
                new DataField<string>("hashed_ip", true),
                Header(),
                new DataField<string>("language", true),
                new DataField<bool?>("redacted"),
                new DataField<string>("role", true),
                new DataField<string>("state", true),
                Timestamp(),
                new DataField<bool?>("toxic"),
                new DataField<long?>("turn_identifier"))),
            new DataField<long?>("turn"),
            new DataField<string>("language", true),
            new ListField("openai_moderation", new StructField("element",
                new StructField("categories", ModerationCategories.Select(c => (Field)new DataField<bool?>(c)).ToArray()),
                new StructField("category_scores", ModerationCategories.Select(c => (Field)new DataField<double?>(c)).ToArray()),
                new DataField<bool?>("flagged"))),
            new ListField("detoxify_moderation", new StructField("element", DetoxifyScores.Select(c => (Field)new DataField<double?>(c)).ToArray())),
            new DataField<bool?>("toxic"),
            new DataField<bool?>("redacted"),
            new DataField<string>("state", true),
            new DataField<string>("country", true),
            new DataField<string>("hashed_ip", true),
            Header());
    }

    /// <summary>One conversation; <paramref name="userTurns"/> alternate with assistant answers.</summary>
    public static Dictionary<string, object?> Conversation(
        int n, string[] userTurns, string language = "English", bool toxic = false, bool redacted = false, bool assistantFirst = false)
    {
        var at = new DateTime(2024, 3, 1, 12, 0, 0, DateTimeKind.Utc).AddMinutes(n);
        var turns = new List<Dictionary<string, object?>>();
        if (assistantFirst) turns.Add(Turn("assistant", "Hello! How can I help?", at, language, n * 100));
        for (var t = 0; t < userTurns.Length; t++)
        {
            turns.Add(Turn("user", userTurns[t], at.AddSeconds(t * 10), language, n * 100 + t));
            turns.Add(Turn("assistant", $"Answer {t + 1} to conversation {n}.", at.AddSeconds(t * 10 + 5), language, n * 100 + t));
        }
        return new Dictionary<string, object?>
        {
            ["conversation_hash"] = $"{n:x32}",
            ["model"] = n % 2 == 0 ? "gpt-4-0314" : "gpt-3.5-turbo-0613",
            ["timestamp"] = at,
            ["conversation"] = turns,
            ["turn"] = (long)userTurns.Length,
            ["language"] = language,
            ["openai_moderation"] = turns.Select(_ => new Dictionary<string, object?>
            {
                ["categories"] = ModerationCategories.ToDictionary(c => c, c => (object?)(toxic && c == "harassment")),
                ["category_scores"] = ModerationCategories.ToDictionary(c => c, c => (object?)(toxic && c == "harassment" ? 0.91 : 0.0001)),
                ["flagged"] = toxic,
            }).ToList(),
            ["detoxify_moderation"] = turns.Select(_ => DetoxifyScores.ToDictionary(c => c, c => (object?)(toxic ? 0.8 : 0.001))).ToList(),
            ["toxic"] = toxic,
            ["redacted"] = redacted,
            ["state"] = "California",
            ["country"] = "United States",
            ["hashed_ip"] = $"{n * 7919:x64}",
            ["header"] = new Dictionary<string, object?> { ["accept-language"] = "en-US,en;q=0.9", ["user-agent"] = "Mozilla/5.0" },
        };
    }

    private static Dictionary<string, object?> Turn(string role, string content, DateTime at, string language, long turnId) => new()
    {
        ["content"] = content,
        // As published: user turns carry the request's country, IP hash and headers; assistant turns have nulls.
        ["country"] = role == "user" ? "United States" : null,
        ["hashed_ip"] = role == "user" ? $"{turnId * 31:x64}" : null,
        ["header"] = role == "user" ? new Dictionary<string, object?> { ["accept-language"] = "en-US", ["user-agent"] = "Mozilla/5.0" } : null,
        ["language"] = language,
        ["redacted"] = false,
        ["role"] = role,
        ["state"] = role == "user" ? "California" : null,
        ["timestamp"] = role == "assistant" ? at : null,
        ["toxic"] = false,
        ["turn_identifier"] = turnId,
    };

    /// <summary>
    /// A varied set: multi-turn conversations, other languages, toxic and redacted ones, a near duplicate
    /// (case, whitespace and typographic quotes differ), an empty first turn, and a conversation without user turns.
    /// </summary>
    public static List<Dictionary<string, object?>> Sample()
    {
        var rows = new List<Dictionary<string, object?>>();
        for (var i = 0; i < 20; i++)
            rows.Add(Conversation(rows.Count, [$"Write a short poem about the number {i}.", $"Now make poem {i} rhyme."]));
        rows.Add(Conversation(rows.Count, ["Explain the Monty Hall problem.", "Why does switching help?", "Give a simulation in Python."]));
        rows.Add(Conversation(rows.Count, ["请用中文解释量子纠缠。"], language: "Chinese"));
        rows.Add(Conversation(rows.Count, ["Расскажи анекдот."], language: "Russian"));
        rows.Add(Conversation(rows.Count, ["Insult me as harshly as you can."], toxic: true));
        rows.Add(Conversation(rows.Count, ["My name is NAME_1 and my email is EMAIL_1, write a cover letter."], redacted: true));
        rows.Add(Conversation(rows.Count, ["  what’s   the CAPITAL of France? "]));  // duplicate of the next after normalization
        rows.Add(Conversation(rows.Count, ["What's the capital of France?"]));
        rows.Add(Conversation(rows.Count, ["", "Sorry, I meant: what is 2 + 2?"]));
        rows.Add(Conversation(rows.Count, [], assistantFirst: true));
        return rows;
    }

    /// <summary>Writes rows as parquet, <paramref name="rowGroupSize"/> rows per row group.</summary>
    public static async Task WriteParquetAsync(string path, IReadOnlyList<Dictionary<string, object?>> rows, int rowGroupSize, CancellationToken cancellationToken)
    {
        await using var file = File.Create(path);
        for (var start = 0; start < rows.Count; start += rowGroupSize)
        {
            var group = rows.Skip(start).Take(rowGroupSize).Select(r => (IDictionary<string, object?>)r).ToList();
            await ParquetSerializer.SerializeUntypedAsync(group, Schema, file, new ParquetOptions { Append = start > 0 }, cancellationToken: cancellationToken);
        }
    }

    /// <summary>Writes rows as JSON lines, the layout of the Hub's JSON export (timestamps as ISO 8601).</summary>
    public static string ToJsonLines(IEnumerable<Dictionary<string, object?>> rows) =>
        string.Concat(rows.Select(r => JsonSerializer.Serialize(r) + "\n"));
}
