using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using SelfTaught.Core.Data.Entities;
using static System.FormattableString;

namespace SelfTaught.Core.Import.Mapping;

/// <summary>What became of one source row: an instruction, a pair, or a rejection.</summary>
internal abstract record RowOutcome;

/// <summary>A source row mapped to an instruction, before filters.</summary>
internal sealed record InstructionDraft(
    string? Text, string? SourceId, string? Language, int TurnCount, string? ReferenceAnswer,
    bool Toxic, bool Redacted, JsonObject? Metadata) : RowOutcome;

/// <summary>
/// A source row mapped to a labeled pair, before filters. Response A is the better one when Gold is A.
/// <paramref name="Judge"/> names who gave the label (MT-Bench's <c>expert_12</c>). <paramref name="VerbatimResponses"/>
/// keeps responses that are empty or identical to each other: a human vote on real model outputs (MT-Bench) is data
/// even then, where a constructed pair (chosen/rejected) with such responses is broken.
/// </summary>
internal sealed record PairDraft(
    string? Prompt, string? ResponseA, string? ResponseB, GoldLabel Gold, string? Subset, string? SourceId, int Turn,
    string? ModelA, string? ModelB, JsonObject? Metadata, string? AttributeScoresAJson = null, string? AttributeScoresBJson = null,
    string? Judge = null, bool VerbatimResponses = false) : RowOutcome;

/// <summary>
/// A row kept by the mapper until the next row completes it (HelpSteer2 pairs two consecutive rows): counted as read,
/// neither imported nor rejected by itself.
/// </summary>
internal sealed record HeldRow : RowOutcome
{
    public static readonly HeldRow Instance = new();
}

/// <summary>A row that is not imported, with a <see cref="RejectionReasons"/> code.</summary>
internal sealed record Rejection(string Reason, string Detail, string? Preview = null) : RowOutcome
{
    public static Rejection Of(string reason, string detail, string? text) => new(reason, detail, RowText.Preview(text));
}

/// <summary>Reading values out of JSON rows.</summary>
internal static class RowText
{
    private const int PreviewLength = 200;
    private const int MaxMetadataChars = 64 * 1024;
    private const int MaxMetadataValueChars = 4 * 1024;

    // Metadata is stored, not rendered as HTML: keep non-ASCII text readable and compact.
    private static readonly JsonSerializerOptions MetadataJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A column's value: the exact key, else a dotted path into nested objects.</summary>
    public static JsonNode? Get(JsonObject row, string column)
    {
        if (row.TryGetPropertyValue(column, out var value)) return value;
        if (!column.Contains('.')) return null;
        JsonNode? node = row;
        foreach (var part in column.Split('.'))
        {
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(part, out node)) return null;
        }
        return node;
    }

    /// <summary>Whether a column exists among the top-level columns (a dotted path counts when its first part does).</summary>
    public static bool HasColumn(IReadOnlyList<string> columns, string column) =>
        columns.Contains(column, StringComparer.Ordinal) ||
        (column.Contains('.') && columns.Contains(column[..column.IndexOf('.')], StringComparer.Ordinal));

    /// <summary>Text of a value: strings as they are, numbers and booleans as written; null for null, objects and arrays.</summary>
    public static string? Text(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.ToJsonString(),
        _ => null,
    };

    /// <summary>Whether a value is an object or array where text was expected.</summary>
    public static bool IsStructured(JsonNode? node) => node is JsonObject or JsonArray;

    /// <summary>A boolean value: JSON booleans, "true"/"false" strings, 1/0.</summary>
    public static bool? Bool(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.True => true,
        JsonValue v when v.GetValueKind() == JsonValueKind.False => false,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => bool.TryParse(v.GetValue<string>(), out var b) ? b : null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString() switch { "1" => true, "0" => false, _ => null },
        _ => null,
    };

    /// <summary>An integer value, or null.</summary>
    public static long? Integer(JsonNode? node) =>
        long.TryParse(Text(node), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>The first 200 characters of a text, for report examples.</summary>
    public static string? Preview(string? text) =>
        text is null ? null : text.Length <= PreviewLength ? text : string.Concat(text.AsSpan(0, PreviewLength), "…");

    /// <summary>
    /// Metadata as stored: null when empty; values over 4 KB replaced by a note when the whole would exceed 64 KB,
    /// so one huge unmapped column cannot bloat every row.
    /// </summary>
    public static string? Serialize(JsonObject? metadata)
    {
        if (metadata is null || metadata.Count == 0) return null;
        var json = metadata.ToJsonString(MetadataJson);
        if (json.Length <= MaxMetadataChars) return json;
        var trimmed = new JsonObject();
        foreach (var (key, value) in metadata)
        {
            var text = value?.ToJsonString(MetadataJson);
            trimmed[key] = text is { Length: > MaxMetadataValueChars }
                ? JsonValue.Create(Invariant($"<omitted: {text.Length:N0} characters>"))
                : value?.DeepClone();
        }
        return trimmed.ToJsonString(MetadataJson);
    }
}
