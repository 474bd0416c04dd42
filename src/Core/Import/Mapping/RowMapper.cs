using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import.Readers;

namespace SelfTaught.Core.Import.Mapping;

/// <summary>
/// Maps source rows to instruction or pair drafts for one preset. <see cref="Bind"/> checks a file's columns (and picks
/// the variant of a preset, e.g. RewardBench's upstream or re-exported column names) before its rows are mapped.
/// </summary>
internal abstract class RowMapper
{
    /// <summary>Which source column fed which field, for the report.</summary>
    public IReadOnlyDictionary<string, string> ResolvedColumns => Resolved;

    protected Dictionary<string, string> Resolved { get; } = new(StringComparer.Ordinal);

    /// <summary>Checks that a file has the columns this mapping needs.</summary>
    /// <exception cref="ImportException">A column is missing; the message names it and lists the columns present.</exception>
    public abstract void Bind(IReadOnlyList<string> columns, string fileName);

    /// <summary>Maps one row. Mapped columns are removed from <paramref name="row"/>; what is left becomes metadata.</summary>
    public abstract RowOutcome Map(JsonObject row);

    /// <summary>
    /// After the last row of the last file: the outcome of a row the mapper still holds (a row waiting for its partner,
    /// see <see cref="HeldRow"/>), which is then rejected; null when nothing is held.
    /// </summary>
    public virtual Rejection? Complete() => null;

    /// <summary>After <see cref="Bind"/>: lets a parquet file be read with a projection of the columns this mapping uses.</summary>
    public virtual void PrepareParquet(ParquetTable table) { }

    /// <summary>Which form of the source was read, for <see cref="ImportReport.SourceForm"/>; null when the preset has one form.</summary>
    public virtual string? SourceForm => null;

    /// <summary>Whether this mapping may join other files into the rows (then the importer asks <see cref="ResolveJoinedFiles"/>).</summary>
    public virtual bool JoinsFiles => false;

    /// <summary>
    /// The files this mapping reads whole and joins into the rows, decided from the first row file's columns (and
    /// checked to exist); none by default. Called before <see cref="Bind"/>.
    /// </summary>
    /// <param name="columns">Columns of the first row file.</param>
    /// <param name="fileName">Its name, for messages.</param>
    /// <param name="filePath">Its path: default locations of joined files are relative to it.</param>
    /// <param name="request">The import request (explicit paths of joined files).</param>
    /// <exception cref="ImportException">A file is missing or the columns do not fit; the message names it and how to fix it.</exception>
    public virtual IReadOnlyList<JoinedFile> ResolveJoinedFiles(IReadOnlyList<string> columns, string fileName, string filePath, ImportRequest request) => [];

    /// <summary>Reads the files <see cref="ResolveJoinedFiles"/> named, before any row is mapped.</summary>
    /// <exception cref="ImportException">A joined file cannot be read or is inconsistent; the message names it.</exception>
    public virtual Task LoadJoinedFilesAsync(IReadOnlyList<JoinedFile> files, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The mapper of a request's preset, with its column overrides.</summary>
    public static RowMapper Create(ImportRequest request)
    {
        var columns = request.Columns ?? new ColumnMapping();
        return request.Preset switch
        {
            ImportPreset.WildChat => new WildChatMapper(columns, request.Filters.Turn),
            ImportPreset.Instructions => new InstructionsMapper(columns),
            ImportPreset.Gsm8k => new Gsm8kMapper(columns),
            ImportPreset.Pairs => new PairsMapper(columns, rewardBench: false),
            ImportPreset.RewardBench => new PairsMapper(columns, rewardBench: true),
            ImportPreset.HhRlhf => new HhRlhfMapper(columns),
            ImportPreset.HelpSteer2 => new HelpSteer2Mapper(columns),
            ImportPreset.MtBenchHuman => new MtBenchHumanMapper(),
            _ => throw new ImportException($"Preset {request.Preset} is not supported."),
        };
    }

    /// <summary>Fails with the missing columns named and the present ones listed.</summary>
    protected static void Require(IReadOnlyList<string> columns, string fileName, string preset, params (string Field, string Column)[] required)
    {
        var missing = required.Where(r => !RowText.HasColumn(columns, r.Column)).ToList();
        if (missing.Count == 0) return;
        var names = string.Join(", ", missing.Select(m => $"'{m.Column}'"));
        var fields = string.Join(", ", missing.Select(m => $"columns.{m.Field}"));
        throw new ImportException(
            $"'{fileName}' has no {(missing.Count == 1 ? "column" : "columns")} {names}, which preset '{preset}' needs. " +
            $"Columns present: {(columns.Count == 0 ? "(none)" : string.Join(", ", columns))}. " +
            $"Map the right column with {fields}, or choose another preset.");
    }

    /// <summary>Takes a text column out of the row (so it is not repeated in metadata).</summary>
    protected static JsonNode? Take(JsonObject row, string? column)
    {
        if (column is null) return null;
        var value = RowText.Get(row, column);
        row.Remove(column);
        return value;
    }

    /// <summary>An optional column: used when the file has it (or when the user named it, which <see cref="Bind"/> checks).</summary>
    protected static string? Optional(IReadOnlyList<string> columns, string? configured, string fallback) =>
        configured ?? (RowText.HasColumn(columns, fallback) ? fallback : null);

    /// <summary>Rejects a prompt value that is structured (a list or object) rather than text.</summary>
    protected static Rejection? NotText(JsonNode? value, string column) =>
        RowText.IsStructured(value)
            ? new Rejection(RejectionReasons.MissingValue, $"column '{column}' holds a JSON {(value is JsonArray ? "array" : "object")}, not text")
            : null;

    protected static JsonObject? Rest(JsonObject row) => row.Count == 0 ? null : row;
}

/// <summary>A file read whole and joined into the rows of an import (MT-Bench's answers and questions).</summary>
/// <param name="JoinedAs">What it supplies (<c>answers</c>, <c>questions</c>), as shown in the report.</param>
/// <param name="Path">Where it is.</param>
internal sealed record JoinedFile(string JoinedAs, string Path);

/// <summary>Generic instructions: a prompt column, optional id, language and reference answer.</summary>
internal sealed class InstructionsMapper(ColumnMapping columns) : RowMapper
{
    private string _prompt = "prompt";
    private string? _id, _language, _reference;

    public override void Bind(IReadOnlyList<string> present, string fileName)
    {
        _prompt = columns.Prompt ?? "prompt";
        var required = new List<(string, string)> { ("prompt", _prompt) };
        if (columns.Id is not null) required.Add(("id", columns.Id));
        if (columns.Language is not null) required.Add(("language", columns.Language));
        if (columns.ReferenceAnswer is not null) required.Add(("referenceAnswer", columns.ReferenceAnswer));
        Require(present, fileName, "instructions", [.. required]);
        _id = Optional(present, columns.Id, "id");
        _language = columns.Language;
        _reference = columns.ReferenceAnswer;
        Resolved.Clear();
        Resolved["prompt"] = _prompt;
        if (_id is not null) Resolved["id"] = _id;
        if (_language is not null) Resolved["language"] = _language;
        if (_reference is not null) Resolved["referenceAnswer"] = _reference;
    }

    public override RowOutcome Map(JsonObject row)
    {
        var prompt = Take(row, _prompt);
        if (NotText(prompt, _prompt) is { } bad) return bad;
        return new InstructionDraft(
            RowText.Text(prompt), RowText.Text(Take(row, _id)), RowText.Text(Take(row, _language)), 1,
            RowText.Text(Take(row, _reference)), Toxic: false, Redacted: false, Rest(row));
    }
}

/// <summary>GSM8K: <c>question</c> → text; <c>answer</c> kept in metadata, its final answer after <c>####</c> → reference answer.</summary>
internal sealed class Gsm8kMapper(ColumnMapping columns) : RowMapper
{
    private const string FinalAnswerMarker = "####";
    private string _question = "question", _answer = "answer";
    private string? _id;

    public override void Bind(IReadOnlyList<string> present, string fileName)
    {
        _question = columns.Prompt ?? "question";
        _answer = columns.ReferenceAnswer ?? "answer";
        Require(present, fileName, "gsm8k", ("prompt", _question), ("referenceAnswer", _answer));
        _id = Optional(present, columns.Id, "id");
        Resolved.Clear();
        Resolved["prompt"] = _question;
        Resolved["referenceAnswer"] = $"{_answer} (after {FinalAnswerMarker})";
        if (_id is not null) Resolved["id"] = _id;
    }

    public override RowOutcome Map(JsonObject row)
    {
        var question = Take(row, _question);
        if (NotText(question, _question) is { } bad) return bad;
        // The full worked solution stays in metadata (as "answer"); graders compare against the final number.
        var answer = RowText.Text(RowText.Get(row, _answer));
        // GSM8K is English by construction (grade-school-math, OpenAI).
        return new InstructionDraft(RowText.Text(question), RowText.Text(Take(row, _id)), "English", 1,
            FinalAnswer(answer), Toxic: false, Redacted: false, Rest(row));
    }

    /// <summary>The text after the last <c>####</c>, trimmed; the whole answer trimmed when there is none.</summary>
    public static string? FinalAnswer(string? answer)
    {
        if (answer is null) return null;
        var marker = answer.LastIndexOf(FinalAnswerMarker, StringComparison.Ordinal);
        return (marker >= 0 ? answer[(marker + FinalAnswerMarker.Length)..] : answer).Trim();
    }
}

/// <summary>
/// WildChat. The published <c>allenai/WildChat-1M</c> schema: one instruction per conversation, the first or last user
/// turn of <c>conversation</c>; TurnCount = number of user turns; id = <c>conversation_hash</c>. The NoveltyBench 1k
/// sample (shared data): <c>original_prompt</c> (the real user turn, not the rewritten <c>prompt</c>); id = the
/// conversation hash from <c>WildChat-&lt;hash&gt;</c>.
/// </summary>
internal sealed class WildChatMapper(ColumnMapping columns, TurnSelection turn) : RowMapper
{
    private const string SampleIdPrefix = "WildChat-";
    private bool _fullSchema;
    private string _prompt = "original_prompt";
    private string? _id;

    public override void Bind(IReadOnlyList<string> present, string fileName)
    {
        Resolved.Clear();
        _fullSchema = columns.Prompt is null && RowText.HasColumn(present, "conversation");
        if (_fullSchema)
        {
            Require(present, fileName, "wildchat", ("prompt", "conversation"));
            _id = Optional(present, columns.Id, "conversation_hash");
            Resolved["prompt"] = $"conversation[{(turn == TurnSelection.First ? "first" : "last")} user turn].content";
            if (_id is not null) Resolved["id"] = _id;
            return;
        }
        _prompt = columns.Prompt ?? "original_prompt";
        if (!RowText.HasColumn(present, _prompt) && columns.Prompt is null)
            throw new ImportException(
                $"'{fileName}' has neither 'conversation' (the allenai/WildChat-1M schema) nor 'original_prompt' (the NoveltyBench WildChat sample), " +
                $"which preset 'wildchat' reads. Columns present: {(present.Count == 0 ? "(none)" : string.Join(", ", present))}. " +
                "Map the prompt column with columns.prompt, or use preset 'instructions'.");
        Require(present, fileName, "wildchat", ("prompt", _prompt));
        _id = Optional(present, columns.Id, "id");
        Resolved["prompt"] = _prompt;
        if (_id is not null) Resolved["id"] = _id;
    }

    public override RowOutcome Map(JsonObject row) => _fullSchema ? MapConversation(row) : MapSample(row);

    public override void PrepareParquet(ParquetTable table)
    {
        // Read the conversation and the fields kept as metadata, not the moderation scores, IP hashes and headers.
        if (_fullSchema && _id is null or "conversation_hash") table.Project<WildChatParquetRow>();
    }

    private RowOutcome MapSample(JsonObject row)
    {
        var prompt = Take(row, _prompt);
        if (NotText(prompt, _prompt) is { } bad) return bad;
        // The original id stays in metadata; SourceId is the WildChat conversation_hash.
        var id = RowText.Text(_id is null ? null : RowText.Get(row, _id));
        if (id is not null && id.StartsWith(SampleIdPrefix, StringComparison.Ordinal)) id = id[SampleIdPrefix.Length..];
        // The sample was built from language == "English" conversations (see the data's README).
        return new InstructionDraft(RowText.Text(prompt), id, "English", 1, null,
            RowText.Bool(RowText.Get(row, "toxic")) == true, RowText.Bool(RowText.Get(row, "redacted")) == true, Rest(row));
    }

    private RowOutcome MapConversation(JsonObject row)
    {
        var conversation = RowText.Get(row, "conversation") as JsonArray;
        if (conversation is null)
            return new Rejection(RejectionReasons.MissingValue, "the row has no conversation list");
        var userTurns = conversation.OfType<JsonObject>()
            .Where(t => string.Equals(RowText.Text(RowText.Get(t, "role")), "user", StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (userTurns.Count == 0)
            return new Rejection(RejectionReasons.NoUserTurn, $"the conversation has {conversation.Count} turns and none by the user");

        var selected = turn == TurnSelection.First ? userTurns[0] : userTurns[^1];
        var content = RowText.Get(selected, "content");
        if (NotText(content, "conversation.content") is { } bad) return bad;
        var language = RowText.Text(RowText.Get(selected, "language")) ?? RowText.Text(RowText.Get(row, "language"));
        var toxic = RowText.Bool(RowText.Get(row, "toxic")) == true || RowText.Bool(RowText.Get(selected, "toxic")) == true;
        var redacted = RowText.Bool(RowText.Get(row, "redacted")) == true || RowText.Bool(RowText.Get(selected, "redacted")) == true;

        // Conversation-level fields worth filtering on later; the transcript, moderation scores, hashed IP and
        // request headers are left out (large, or personal).
        var metadata = new JsonObject();
        foreach (var key in (string[])["model", "timestamp", "turn", "language", "toxic", "redacted", "state", "country"])
            if (RowText.Get(row, key) is { } value) metadata[key] = value.DeepClone();
        metadata["userTurn"] = (turn == TurnSelection.First ? 0 : userTurns.Count - 1) + 1;
        if (RowText.Get(selected, "turn_identifier") is { } turnId) metadata["turnIdentifier"] = turnId.DeepClone();

        return new InstructionDraft(RowText.Text(content), RowText.Text(_id is null ? null : RowText.Get(row, _id)),
            language, userTurns.Count, null, toxic, redacted, metadata);
    }
}

/// <summary>
/// Labeled pairs (gold A = chosen). RewardBench adds its variants: upstream names (prompt/chosen/rejected) or the
/// re-export (question/response_A/response_B, with <c>label</c> = 1 meaning A is chosen); subset and id are required.
/// </summary>
internal sealed class PairsMapper(ColumnMapping columns, bool rewardBench) : RowMapper
{
    private string _prompt = "prompt", _chosen = "chosen", _rejected = "rejected";
    private string? _id, _subset, _chosenModel, _rejectedModel, _label;

    private string PresetName => rewardBench ? "rewardbench" : "pairs";

    public override void Bind(IReadOnlyList<string> present, string fileName)
    {
        var reExport = rewardBench && RowText.HasColumn(present, "question") && RowText.HasColumn(present, "response_A") && RowText.HasColumn(present, "response_B");
        _prompt = columns.Prompt ?? (reExport ? "question" : "prompt");
        _chosen = columns.Chosen ?? (reExport ? "response_A" : "chosen");
        _rejected = columns.Rejected ?? (reExport ? "response_B" : "rejected");
        var required = new List<(string, string)> { ("prompt", _prompt), ("chosen", _chosen), ("rejected", _rejected) };
        if (rewardBench)
        {
            // RewardBench rows are keyed by (subset, id): ids repeat across subsets.
            required.Add(("subset", columns.Subset ?? "subset"));
            required.Add(("id", columns.Id ?? "id"));
        }
        foreach (var (field, column) in new[] { ("id", columns.Id), ("subset", columns.Subset), ("chosenModel", columns.ChosenModel), ("rejectedModel", columns.RejectedModel) })
            if (column is not null) required.Add((field, column));
        Require(present, fileName, PresetName, [.. required.Distinct()]);

        _id = Optional(present, columns.Id, "id");
        _subset = Optional(present, columns.Subset, "subset");
        _chosenModel = Optional(present, columns.ChosenModel, "chosen_model");
        _rejectedModel = Optional(present, columns.RejectedModel, "rejected_model");
        _label = reExport && RowText.HasColumn(present, "label") ? "label" : null;

        Resolved.Clear();
        Resolved["prompt"] = _prompt;
        Resolved["responseA"] = _chosen;
        Resolved["responseB"] = _rejected;
        if (_id is not null) Resolved["id"] = _id;
        if (_subset is not null) Resolved["subset"] = _subset;
        if (_chosenModel is not null) Resolved["modelA"] = _chosenModel;
        if (_rejectedModel is not null) Resolved["modelB"] = _rejectedModel;
    }

    public override RowOutcome Map(JsonObject row)
    {
        if (_label is not null && RowText.Integer(RowText.Get(row, _label)) is { } label and not 1)
            return new Rejection(RejectionReasons.UnknownLabel,
                $"label {label}; only label 1 (response_A is the chosen response) is known for this export", RowText.Preview(RowText.Text(RowText.Get(row, _prompt))));
        var prompt = Take(row, _prompt);
        var chosen = Take(row, _chosen);
        var rejected = Take(row, _rejected);
        if ((NotText(prompt, _prompt) ?? NotText(chosen, _chosen) ?? NotText(rejected, _rejected)) is { } bad) return bad;
        return new PairDraft(
            RowText.Text(prompt), RowText.Text(chosen), RowText.Text(rejected), GoldLabel.A,
            RowText.Text(Take(row, _subset)), RowText.Text(Take(row, _id)), Turn: 1,
            RowText.Text(Take(row, _chosenModel)), RowText.Text(Take(row, _rejectedModel)), Rest(row));
    }
}

/// <summary>
/// Anthropic HH-RLHF: <c>chosen</c> and <c>rejected</c> are whole transcripts ("\n\nHuman: … \n\nAssistant: …") that
/// share the dialogue up to the final assistant turn. The shared part becomes the prompt (just the question when there
/// is one human turn, else the transcript), the two final assistant turns the responses; Turn = number of human turns.
/// </summary>
internal sealed class HhRlhfMapper(ColumnMapping columns) : RowMapper
{
    private const string HumanMarker = "\n\nHuman:";
    private const string AssistantMarker = "\n\nAssistant:";
    private string _chosen = "chosen", _rejected = "rejected";

    public override void Bind(IReadOnlyList<string> present, string fileName)
    {
        _chosen = columns.Chosen ?? "chosen";
        _rejected = columns.Rejected ?? "rejected";
        Require(present, fileName, "hh-rlhf", ("chosen", _chosen), ("rejected", _rejected));
        Resolved.Clear();
        Resolved["prompt"] = $"shared dialogue of {_chosen}/{_rejected}";
        Resolved["responseA"] = $"{_chosen} (final assistant turn)";
        Resolved["responseB"] = $"{_rejected} (final assistant turn)";
    }

    public override RowOutcome Map(JsonObject row)
    {
        var chosenNode = Take(row, _chosen);
        var rejectedNode = Take(row, _rejected);
        if ((NotText(chosenNode, _chosen) ?? NotText(rejectedNode, _rejected)) is { } bad) return bad;
        var chosen = RowText.Text(chosenNode);
        var rejected = RowText.Text(rejectedNode);
        if (chosen is null || rejected is null)
            return new Rejection(RejectionReasons.MissingValue, $"'{(chosen is null ? _chosen : _rejected)}' is missing");
        return Split(chosen, rejected) switch
        {
            ({ } prompt, { } a, { } b, var turns, null) => new PairDraft(prompt, a, b, GoldLabel.A, null, null, turns, null, null, Rest(row)),
            (_, _, _, _, var problem) => Rejection.Of(RejectionReasons.TranscriptMismatch, problem!, chosen),
        };
    }

    /// <summary>Splits two transcripts into their shared prompt and final assistant turns, or says why they cannot be.</summary>
    public static (string? Prompt, string? Chosen, string? Rejected, int HumanTurns, string? Problem) Split(string chosen, string rejected)
    {
        var c = chosen.LastIndexOf(AssistantMarker, StringComparison.Ordinal);
        var r = rejected.LastIndexOf(AssistantMarker, StringComparison.Ordinal);
        if (c < 0 || r < 0)
            return (null, null, null, 0, $"the {(c < 0 ? "chosen" : "rejected")} transcript has no \"Assistant:\" turn");
        var shared = chosen[..c];
        if (!string.Equals(shared, rejected[..r], StringComparison.Ordinal))
            return (null, null, null, 0, "chosen and rejected differ before their final assistant turn, so they answer different dialogues");

        var humanTurns = CountOf(shared, HumanMarker);
        if (humanTurns == 0) return (null, null, null, 0, "the transcript has no \"Human:\" turn");
        var prompt = humanTurns == 1 && shared.StartsWith(HumanMarker, StringComparison.Ordinal)
            ? shared[HumanMarker.Length..].Trim()
            : shared.Trim();
        return (prompt, chosen[(c + AssistantMarker.Length)..].Trim(), rejected[(r + AssistantMarker.Length)..].Trim(), humanTurns, null);
    }

    private static int CountOf(string text, string marker)
    {
        var count = 0;
        for (var i = text.IndexOf(marker, StringComparison.Ordinal); i >= 0; i = text.IndexOf(marker, i + marker.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}

/// <summary>The columns of the <c>allenai/WildChat-1M</c> schema that <see cref="WildChatMapper"/> reads.</summary>
internal sealed class WildChatParquetRow
{
    [JsonPropertyName("conversation_hash")] public string? ConversationHash { get; set; }
    [JsonPropertyName("model")] public string? Model { get; set; }
    [JsonPropertyName("timestamp")] public DateTime? Timestamp { get; set; }
    [JsonPropertyName("conversation")] public List<WildChatParquetTurn>? Conversation { get; set; }
    [JsonPropertyName("turn")] public long? Turn { get; set; }
    [JsonPropertyName("language")] public string? Language { get; set; }
    [JsonPropertyName("toxic")] public bool? Toxic { get; set; }
    [JsonPropertyName("redacted")] public bool? Redacted { get; set; }
    [JsonPropertyName("state")] public string? State { get; set; }
    [JsonPropertyName("country")] public string? Country { get; set; }
}

/// <summary>The fields of a WildChat conversation turn that <see cref="WildChatMapper"/> reads.</summary>
internal sealed class WildChatParquetTurn
{
    [JsonPropertyName("content")] public string? Content { get; set; }
    [JsonPropertyName("role")] public string? Role { get; set; }
    [JsonPropertyName("language")] public string? Language { get; set; }
    [JsonPropertyName("toxic")] public bool? Toxic { get; set; }
    [JsonPropertyName("redacted")] public bool? Redacted { get; set; }
    [JsonPropertyName("turn_identifier")] public long? TurnIdentifier { get; set; }
}
