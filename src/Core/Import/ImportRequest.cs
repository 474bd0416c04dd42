using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Import;

/// <summary>
/// Everything an import needs: where the rows come from, how to read and map them, and which to keep.
/// Stored verbatim (as <see cref="ToJson"/>) in <see cref="Dataset.OptionsJson"/>, so a resumed import reads the
/// same request back with <see cref="FromJson"/>.
/// </summary>
public sealed record ImportRequest
{
    /// <summary>Display name of the new dataset (1–200 characters).</summary>
    public required string Name { get; init; }

    /// <summary>Where the rows come from: a local file, an uploaded file or a Hugging Face Hub dataset split.</summary>
    public required ImportSource Source { get; init; }

    /// <summary>How rows map to instructions or labeled pairs. Default <see cref="ImportPreset.Instructions"/>.</summary>
    public ImportPreset Preset { get; init; } = ImportPreset.Instructions;

    /// <summary>Role of the dataset; default from the preset (see <see cref="ImportPresets.DefaultRole"/>).</summary>
    public DatasetRole? Role { get; init; }

    /// <summary>File format; default from the file name's extension (<c>.gz</c> allowed). Hub sources are always parquet.</summary>
    public ImportFormat? Format { get; init; }

    /// <summary>Column names overriding the preset's defaults (<c>prompt</c>, <c>id</c>, <c>chosen</c>, ...).</summary>
    public ColumnMapping? Columns { get; init; }

    /// <summary>Which rows to keep: turn selection, language, toxic/redacted, length limits and de-duplication.</summary>
    public ImportFilters Filters { get; init; } = new();

    /// <summary>Optional description stored on the dataset.</summary>
    public string? Description { get; init; }

    /// <summary>
    /// <c>mtbench-human</c>, two-file form only: the answers file (<c>question_id</c>, <c>model</c>, <c>answer</c>).
    /// Default (null): <c>human_judgment_answers.jsonl</c> beside the votes file. A path given here is used as written
    /// (absolute, or relative to the working directory, like a local source path).
    /// </summary>
    public string? AnswersPath { get; init; }

    /// <summary>
    /// <c>mtbench-human</c>: the MT-Bench questions file (<c>question_id</c>, <c>category</c>, <c>turns</c>). Two-file
    /// form default (null): <c>../mt_bench/question.jsonl</c> relative to the votes file's folder. With the
    /// <c>lmsys/mt_bench_human_judgments</c> schema it is optional and only supplies categories.
    /// </summary>
    public string? QuestionsPath { get; init; }

    /// <summary>The role the dataset gets: <see cref="Role"/>, or the preset's default.</summary>
    [JsonIgnore]
    public DatasetRole EffectiveRole => Role ?? ImportPresets.DefaultRole(Preset);

    /// <summary>Whether exact duplicates are dropped: <see cref="ImportFilters.Dedupe"/>, or on unless the dataset is a benchmark.</summary>
    [JsonIgnore]
    public bool EffectiveDedupe => Filters.Dedupe ?? EffectiveRole != DatasetRole.Benchmark;

    /// <summary>The format the file is read as: <see cref="Format"/>, parquet for the Hub, else from the file name.</summary>
    /// <exception cref="ImportException">No format was given and the extension names none.</exception>
    public ImportFormat ResolveFormat() => Source switch
    {
        HubSource => ImportFormat.Parquet,
        _ when Format is { } format => format,
        LocalFileSource local => ImportFormats.FromFileName(local.Path),
        UploadedFileSource upload => ImportFormats.FromFileName(upload.FileName),
        _ => throw new ImportException("The import source is not supported."),
    };

    /// <summary>Checks the request before anything is stored.</summary>
    /// <exception cref="ImportException">The request is invalid; the message names the problem.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name)) throw new ImportException("The dataset needs a name.");
        if (Name.Length > 200) throw new ImportException($"The dataset name is {Name.Length} characters long; the maximum is 200.");
        switch (Source)
        {
            case LocalFileSource { Path: var path } when string.IsNullOrWhiteSpace(path):
                throw new ImportException("The import names no file path.");
            case UploadedFileSource { Path: var path } when string.IsNullOrWhiteSpace(path):
                throw new ImportException("The upload has no stored file path.");
            case HubSource hub:
                hub.Validate();
                if (Format is { } f && f != ImportFormat.Parquet)
                    throw new ImportException($"Hub datasets are read from the Hub's parquet conversion; format '{ImportFormats.Name(f)}' cannot be used with a hub source.");
                break;
            case null:
                throw new ImportException("The import names no source.");
        }
        ResolveFormat();
        if (Preset != ImportPreset.MtBenchHuman && (AnswersPath is not null || QuestionsPath is not null))
            throw new ImportException(
                $"answersPath and questionsPath name the files joined into MT-Bench human votes; preset '{ImportPresets.Name(Preset)}' reads no such files. Use preset mtbench-human, or leave them out.");
        if (Preset == ImportPreset.MtBenchHuman)
        {
            if (AnswersPath is { } answers && string.IsNullOrWhiteSpace(answers))
                throw new ImportException("answersPath is blank; leave it out to use human_judgment_answers.jsonl beside the votes file.");
            if (QuestionsPath is { } questions && string.IsNullOrWhiteSpace(questions))
                throw new ImportException("questionsPath is blank; leave it out to use ../mt_bench/question.jsonl relative to the votes file.");
            if (Columns is not null && Columns != new ColumnMapping())
                throw new ImportException(
                    "Preset 'mtbench-human' reads the fixed columns of MT-Bench human votes (question_id, model_a, model_b, winner, judge, and conversation_a/conversation_b/turn or the two-file join); a column mapping cannot be used with it.");
        }

        var rows = ImportPresets.RowKind(Preset);
        var role = EffectiveRole;
        if (rows == ImportRowKind.Instructions && role != DatasetRole.InstructionPool)
            throw new ImportException($"Preset '{ImportPresets.Name(Preset)}' imports instructions, which form an instruction pool; role {role} needs a pair preset (pairs, rewardbench, mtbench-human, hh-rlhf, helpsteer2).");
        if (rows == ImportRowKind.LabeledPairs && role == DatasetRole.InstructionPool)
            throw new ImportException($"Preset '{ImportPresets.Name(Preset)}' imports labeled pairs; role InstructionPool needs an instruction preset (wildchat, instructions, gsm8k).");

        Filters.Validate();
        if (Filters.Language is not null && rows == ImportRowKind.LabeledPairs)
            throw new ImportException($"The language filter applies to instruction datasets; preset '{ImportPresets.Name(Preset)}' imports labeled pairs, which carry no language.");
    }

    /// <summary>Serializes the request (enums as strings, the source with a <c>kind</c> discriminator).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ImportJson.Options);

    /// <summary>Reads a request written by <see cref="ToJson"/>.</summary>
    /// <exception cref="ImportException">The JSON is not an import request.</exception>
    public static ImportRequest FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ImportRequest>(json, ImportJson.Options)
                ?? throw new ImportException("The stored import options are empty.");
        }
        catch (JsonException ex)
        {
            throw new ImportException($"The stored import options cannot be read ({ex.Message}).", ex);
        }
    }
}

/// <summary>Where the rows of an import come from.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(LocalFileSource), "local")]
[JsonDerivedType(typeof(UploadedFileSource), "upload")]
[JsonDerivedType(typeof(HubSource), "hub")]
public abstract record ImportSource
{
    /// <summary>What <see cref="Dataset.Source"/> shows: the path, the upload's name or the hub id.</summary>
    [JsonIgnore]
    public abstract string DisplayName { get; }
}

/// <summary>A file on the server's disk, read in place (never copied).</summary>
/// <param name="Path">Absolute path, or relative to the working directory.</param>
public sealed record LocalFileSource(string Path) : ImportSource
{
    /// <inheritdoc />
    public override string DisplayName => Path;
}

/// <summary>A file a user uploaded, already saved by the caller.</summary>
/// <param name="Path">Where the upload was saved.</param>
/// <param name="FileName">The name the user gave it; its extension selects the format.</param>
public sealed record UploadedFileSource(string Path, string FileName) : ImportSource
{
    /// <inheritdoc />
    public override string DisplayName => FileName;
}

/// <summary>A split of a Hugging Face Hub dataset, read from the Hub's parquet conversion.</summary>
/// <param name="Repo">Dataset id <c>owner/name</c>, e.g. <c>allenai/WildChat-1M</c>.</param>
/// <param name="Config">Configuration (subset) name; default <c>default</c>.</param>
/// <param name="Split">Split name; default <c>train</c>.</param>
/// <param name="Revision">
/// A revision of the parquet conversion branch (a commit of <c>refs/convert/parquet</c>); when null, the Hub's current
/// parquet listing of the split is used.
/// </param>
public sealed partial record HubSource(string Repo, string Config = "default", string Split = "train", string? Revision = null) : ImportSource
{
    /// <inheritdoc />
    public override string DisplayName => Repo;

    /// <summary>Checks the repo id, config and split.</summary>
    /// <exception cref="ImportException">One of them is malformed.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Repo) || !RepoPattern().IsMatch(Repo))
            throw new ImportException($"'{Repo}' is not a Hub dataset id; write it as owner/name, e.g. allenai/WildChat-1M.");
        if (string.IsNullOrWhiteSpace(Config) || !SegmentPattern().IsMatch(Config))
            throw new ImportException($"'{Config}' is not a valid dataset config name.");
        if (string.IsNullOrWhiteSpace(Split) || !SegmentPattern().IsMatch(Split))
            throw new ImportException($"'{Split}' is not a valid split name.");
        if (Revision is not null && (Revision.Length == 0 || Revision.Contains("..", StringComparison.Ordinal) || Revision.Any(char.IsWhiteSpace)))
            throw new ImportException($"'{Revision}' is not a valid revision.");
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    private static partial Regex RepoPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    private static partial Regex SegmentPattern();
}

/// <summary>File formats the importer reads.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ImportFormat>))]
public enum ImportFormat
{
    /// <summary>Apache Parquet, read one row group at a time.</summary>
    [JsonStringEnumMemberName("parquet")] Parquet,
    /// <summary>JSON lines: one JSON object per line.</summary>
    [JsonStringEnumMemberName("jsonl")] JsonLines,
    /// <summary>Comma-separated values with a header row (tab-separated for <c>.tsv</c>).</summary>
    [JsonStringEnumMemberName("csv")] Csv,
}

/// <summary>How source rows become dataset rows.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ImportPreset>))]
public enum ImportPreset
{
    /// <summary>
    /// WildChat: the published <c>allenai/WildChat-1M</c> schema (a <c>conversation</c> list; one user turn per
    /// conversation, see <see cref="ImportFilters.Turn"/>), or the NoveltyBench 1k sample (<c>original_prompt</c>).
    /// </summary>
    [JsonStringEnumMemberName("wildchat")] WildChat,
    /// <summary>Any instruction list: a prompt column (default <c>prompt</c>), optional id (default <c>id</c>).</summary>
    [JsonStringEnumMemberName("instructions")] Instructions,
    /// <summary>Any labeled pairs: prompt, chosen, rejected (optional id, subset, chosen_model, rejected_model); gold = A = chosen.</summary>
    [JsonStringEnumMemberName("pairs")] Pairs,
    /// <summary>RewardBench: upstream columns (prompt/chosen/rejected/subset/id) or the re-export (question/response_A/response_B/...).</summary>
    [JsonStringEnumMemberName("rewardbench")] RewardBench,
    /// <summary>Anthropic HH-RLHF: chosen/rejected transcripts split into the shared dialogue and the final assistant turns.</summary>
    [JsonStringEnumMemberName("hh-rlhf")] HhRlhf,
    /// <summary>GSM8K: question → instruction text, the final answer after <c>####</c> → reference answer.</summary>
    [JsonStringEnumMemberName("gsm8k")] Gsm8k,
    /// <summary>
    /// NVIDIA HelpSteer2: rows <c>prompt</c>, <c>response</c> and the five attribute scores; rows 2k and 2k+1 answer one
    /// prompt and become one labeled pair (A = row 2k, B = row 2k+1) with both rows' scores, gold by summed score.
    /// </summary>
    [JsonStringEnumMemberName("helpsteer2")] HelpSteer2,
    /// <summary>
    /// MT-Bench human pairwise votes (<c>lmsys/mt_bench_human_judgments</c>, split <c>human</c>): each vote becomes one
    /// labeled pair (prompt = the question's turn 1, A/B = model_a's/model_b's turn-1 answers, gold from
    /// <c>winner</c>, judge, models, turn, question id, category as subset). Reads the published schema
    /// (<c>conversation_a</c>/<c>conversation_b</c>; turn-2 votes are rejected) or the two-file form (votes joined with
    /// an answers file and the questions file, see <see cref="ImportRequest.AnswersPath"/>).
    /// </summary>
    [JsonStringEnumMemberName("mtbench-human")] MtBenchHuman,
}

/// <summary>Which user turn of a multi-turn conversation becomes the instruction.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TurnSelection>))]
public enum TurnSelection
{
    /// <summary>The first user turn (the paper's choice for WildChat).</summary>
    First,
    /// <summary>The last user turn.</summary>
    Last,
}

/// <summary>What a preset produces.</summary>
public enum ImportRowKind
{
    /// <summary><see cref="Instruction"/> rows.</summary>
    Instructions,
    /// <summary><see cref="LabeledPair"/> rows.</summary>
    LabeledPairs,
}

/// <summary>
/// Source column names. Each property overrides the preset's default column; a name may be a dotted path into nested
/// objects (<c>meta.response.formatted</c>) when no column has the exact name.
/// </summary>
public sealed record ColumnMapping
{
    /// <summary>Prompt / instruction text.</summary>
    public string? Prompt { get; init; }
    /// <summary>Source row id (default <c>id</c>; optional).</summary>
    public string? Id { get; init; }
    /// <summary>Better response of a pair (becomes response A).</summary>
    public string? Chosen { get; init; }
    /// <summary>Worse response of a pair (becomes response B).</summary>
    public string? Rejected { get; init; }
    /// <summary>Subset of a pair (default <c>subset</c>; optional).</summary>
    public string? Subset { get; init; }
    /// <summary>Model that wrote the chosen response (default <c>chosen_model</c>; optional).</summary>
    public string? ChosenModel { get; init; }
    /// <summary>Model that wrote the rejected response (default <c>rejected_model</c>; optional).</summary>
    public string? RejectedModel { get; init; }
    /// <summary>Language of an instruction (optional; needed by the language filter for generic instructions).</summary>
    public string? Language { get; init; }
    /// <summary>Reference answer of an instruction (optional).</summary>
    public string? ReferenceAnswer { get; init; }
}

/// <summary>Which rows to keep. Rows that fail a filter are counted as rejected, with the reason in the report.</summary>
public sealed record ImportFilters
{
    /// <summary>Default of <see cref="MaxPromptLength"/> and <see cref="MaxResponseLength"/>: 100,000 characters.</summary>
    public const int DefaultMaxLength = 100_000;

    /// <summary>WildChat: which user turn becomes the instruction. Default <see cref="TurnSelection.First"/>.</summary>
    public TurnSelection Turn { get; init; } = TurnSelection.First;

    /// <summary>Keep only instructions in this language (e.g. <c>English</c>, compared ignoring case). Default: all.</summary>
    public string? Language { get; init; }

    /// <summary>Drop rows flagged toxic (WildChat's <c>toxic</c>, conversation or selected turn). Default false.</summary>
    public bool DropToxic { get; init; }

    /// <summary>Drop rows flagged redacted (WildChat's <c>redacted</c>, conversation or selected turn). Default false.</summary>
    public bool DropRedacted { get; init; }

    /// <summary>Minimum prompt length in characters (UTF-16 code units). Default 1; empty prompts are always rejected.</summary>
    public int MinPromptLength { get; init; } = 1;

    /// <summary>Maximum prompt length in characters (UTF-16 code units). Default 100,000.</summary>
    public int MaxPromptLength { get; init; } = DefaultMaxLength;

    /// <summary>Maximum length of each response of a pair, in characters. Default 100,000.</summary>
    public int MaxResponseLength { get; init; } = DefaultMaxLength;

    /// <summary>
    /// Drop exact duplicates after normalization (NFKC, lower case, collapsed whitespace, ASCII quotes): of the prompt
    /// for instructions, of (subset, prompt, chosen, rejected) for pairs. Default (null): on, except for benchmarks,
    /// whose official row counts must be kept.
    /// </summary>
    public bool? Dedupe { get; init; }

    /// <summary>Checks the limits.</summary>
    /// <exception cref="ImportException">A limit is negative or the minimum exceeds the maximum.</exception>
    public void Validate()
    {
        if (MinPromptLength < 0) throw new ImportException("The minimum prompt length cannot be negative.");
        if (MaxPromptLength < 1) throw new ImportException("The maximum prompt length must be at least 1.");
        if (MaxResponseLength < 1) throw new ImportException("The maximum response length must be at least 1.");
        if (MinPromptLength > MaxPromptLength)
            throw new ImportException($"The minimum prompt length ({MinPromptLength}) exceeds the maximum ({MaxPromptLength}).");
        if (Language is not null && string.IsNullOrWhiteSpace(Language))
            throw new ImportException("The language filter is blank; leave it out to keep every language.");
    }
}

/// <summary>Names, defaults and parsing of presets.</summary>
public static class ImportPresets
{
    /// <summary>The wire name of a preset (<c>hh-rlhf</c>, ...).</summary>
    public static string Name(ImportPreset preset) => preset switch
    {
        ImportPreset.WildChat => "wildchat",
        ImportPreset.Instructions => "instructions",
        ImportPreset.Pairs => "pairs",
        ImportPreset.RewardBench => "rewardbench",
        ImportPreset.HhRlhf => "hh-rlhf",
        ImportPreset.Gsm8k => "gsm8k",
        ImportPreset.HelpSteer2 => "helpsteer2",
        ImportPreset.MtBenchHuman => "mtbench-human",
        _ => preset.ToString(),
    };

    /// <summary>Parses a wire name (case-insensitive).</summary>
    /// <exception cref="ImportException">The name is not a known preset; the message lists them.</exception>
    public static ImportPreset Parse(string name)
    {
        foreach (var preset in Enum.GetValues<ImportPreset>())
            if (string.Equals(Name(preset), name?.Trim(), StringComparison.OrdinalIgnoreCase)) return preset;
        throw new ImportException(
            $"'{name}' is not an import preset; use one of {string.Join(", ", Enum.GetValues<ImportPreset>().Select(Name))}.");
    }

    /// <summary>Whether a preset produces instructions or labeled pairs.</summary>
    public static ImportRowKind RowKind(ImportPreset preset) => preset switch
    {
        ImportPreset.WildChat or ImportPreset.Instructions or ImportPreset.Gsm8k => ImportRowKind.Instructions,
        _ => ImportRowKind.LabeledPairs,
    };

    /// <summary>The role a dataset gets when the request names none: benchmarks for RewardBench and MT-Bench human votes, pairs or pools otherwise.</summary>
    public static DatasetRole DefaultRole(ImportPreset preset) => preset switch
    {
        ImportPreset.RewardBench or ImportPreset.MtBenchHuman => DatasetRole.Benchmark,
        _ when RowKind(preset) == ImportRowKind.LabeledPairs => DatasetRole.LabeledPairs,
        _ => DatasetRole.InstructionPool,
    };
}

/// <summary>Names and detection of file formats.</summary>
public static class ImportFormats
{
    /// <summary>The wire name of a format (<c>parquet</c>, <c>jsonl</c>, <c>csv</c>).</summary>
    public static string Name(ImportFormat format) => format switch
    {
        ImportFormat.Parquet => "parquet",
        ImportFormat.JsonLines => "jsonl",
        ImportFormat.Csv => "csv",
        _ => format.ToString(),
    };

    /// <summary>Parses a wire name (case-insensitive; <c>json</c> and <c>ndjson</c> mean JSON lines).</summary>
    /// <exception cref="ImportException">The name is not a known format.</exception>
    public static ImportFormat Parse(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "parquet" => ImportFormat.Parquet,
        "jsonl" or "json" or "ndjson" => ImportFormat.JsonLines,
        "csv" or "tsv" => ImportFormat.Csv,
        _ => throw new ImportException($"'{name}' is not an import format; use parquet, jsonl or csv."),
    };

    /// <summary>The format named by a file's extension, ignoring a trailing <c>.gz</c>.</summary>
    /// <exception cref="ImportException">The extension names no supported format.</exception>
    public static ImportFormat FromFileName(string fileName)
    {
        var name = StripGzip(Path.GetFileName(fileName));
        var extension = Path.GetExtension(name).ToLowerInvariant();
        return extension switch
        {
            ".parquet" or ".pq" => ImportFormat.Parquet,
            ".jsonl" or ".ndjson" or ".json" => ImportFormat.JsonLines,
            ".csv" or ".tsv" => ImportFormat.Csv,
            _ => throw new ImportException(
                $"Cannot tell the format of '{Path.GetFileName(fileName)}' from its extension" +
                $"{(extension.Length > 0 ? $" '{extension}'" : "")}; set the format to parquet, jsonl or csv."),
        };
    }

    /// <summary>Whether a file name says tab-separated values (<c>.tsv</c> or <c>.tsv.gz</c>).</summary>
    public static bool IsTabSeparated(string fileName) =>
        Path.GetExtension(StripGzip(Path.GetFileName(fileName))).Equals(".tsv", StringComparison.OrdinalIgnoreCase);

    private static string StripGzip(string name) =>
        name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? name[..^3] : name;
}

internal static class ImportJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
