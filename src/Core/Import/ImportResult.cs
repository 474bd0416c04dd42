using System.Text.Json;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Import;

/// <summary>Outcome of a completed import.</summary>
/// <param name="DatasetId">The dataset, now <see cref="DatasetStatus.Ready"/>.</param>
/// <param name="RowCount">Rows stored.</param>
/// <param name="RejectedCount">Rows rejected (bad encoding, empty, too long, filtered, ...).</param>
/// <param name="DuplicateCount">Rows dropped as exact duplicates of an earlier row.</param>
/// <param name="ContentHash">SHA-256 (hex) of the imported bytes, over all files in order.</param>
/// <param name="Report">What was read and why rows were dropped; also stored as <see cref="Dataset.ImportReportJson"/>.</param>
/// <param name="AlreadyComplete">True when the dataset was already Ready and nothing was done (a job that ran twice).</param>
public sealed record ImportResult(
    long DatasetId, int RowCount, int RejectedCount, int DuplicateCount, string? ContentHash, ImportReport? Report, bool AlreadyComplete = false);

/// <summary>Phase of a running import.</summary>
public enum ImportPhase
{
    /// <summary>Downloading files from the Hub (bytes).</summary>
    Downloading,
    /// <summary>Hashing the source files for provenance and to detect a changed source on resume (bytes).</summary>
    Hashing,
    /// <summary>Reading, filtering and storing rows.</summary>
    Importing,
    /// <summary>Done; the dataset is Ready.</summary>
    Completed,
}

/// <summary>Progress of an import, reported after each stored batch and during downloads.</summary>
/// <param name="Phase">What is happening.</param>
/// <param name="Fraction">Estimated share done in this phase (0–1), when known.</param>
/// <param name="RowsRead">Source rows read so far (stored + rejected + duplicates).</param>
/// <param name="RowsStored">Rows accepted so far (written, or found already stored on resume).</param>
/// <param name="Rejected">Rows rejected so far.</param>
/// <param name="Duplicates">Duplicates dropped so far.</param>
/// <param name="BytesDone">Bytes downloaded or hashed in this phase.</param>
/// <param name="BytesTotal">Bytes to download or hash in this phase, when known.</param>
/// <param name="Detail">The file being worked on, or another short note.</param>
public sealed record ImportProgress(
    ImportPhase Phase, double? Fraction, long RowsRead, int RowsStored, int Rejected, int Duplicates,
    long BytesDone = 0, long? BytesTotal = null, string? Detail = null);

/// <summary>
/// The import report stored as <see cref="Dataset.ImportReportJson"/>: what was read, how columns were mapped,
/// and every reason rows were dropped with a count and up to <see cref="MaxExamples"/> examples.
/// Invariant: <c>RowsRead = Imported + Rejected + Duplicates</c>.
/// </summary>
public sealed record ImportReport
{
    /// <summary>Examples kept per rejection reason.</summary>
    public const int MaxExamples = 5;

    /// <summary>Format the files were read as.</summary>
    public required string Format { get; init; }
    /// <summary>Preset wire name.</summary>
    public required string Preset { get; init; }
    /// <summary>Source files in read order.</summary>
    public required IReadOnlyList<ImportedFile> Files { get; init; }
    /// <summary>
    /// Which form of the source was read, when a preset reads several (MT-Bench human votes: the
    /// <c>lmsys/mt_bench_human_judgments</c> schema, or votes joined with answers and questions); null otherwise.
    /// </summary>
    public string? SourceForm { get; init; }
    /// <summary>Which source column fed which field (e.g. <c>prompt</c> → <c>original_prompt</c>), as resolved for the data.</summary>
    public required IReadOnlyDictionary<string, string> Columns { get; init; }
    /// <summary>Filters applied (the request's, with de-duplication resolved).</summary>
    public required ImportFilters Filters { get; init; }
    /// <summary>Source rows read.</summary>
    public long RowsRead { get; init; }
    /// <summary>Rows stored.</summary>
    public int Imported { get; init; }
    /// <summary>Rows rejected, all reasons.</summary>
    public int Rejected { get; init; }
    /// <summary>Exact duplicates dropped.</summary>
    public int Duplicates { get; init; }
    /// <summary>Rejections by reason, most frequent first.</summary>
    public required IReadOnlyList<RejectionSummary> Rejections { get; init; }
    /// <summary>Up to <see cref="MaxExamples"/> dropped duplicates.</summary>
    public required IReadOnlyList<RowExample> DuplicateExamples { get; init; }
    /// <summary>True when this run continued an interrupted import.</summary>
    public bool Resumed { get; init; }
    /// <summary>When this run started (UTC).</summary>
    public DateTime StartedAt { get; init; }
    /// <summary>When the import completed (UTC).</summary>
    public DateTime CompletedAt { get; init; }

    /// <summary>Serializes the report (camelCase JSON).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ImportJson.Options);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    public static ImportReport? FromJson(string? json) =>
        string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize<ImportReport>(json, ImportJson.Options);
}

/// <summary>A file an import read.</summary>
/// <param name="Name">File name (hub files: the name in the Hub's parquet conversion).</param>
/// <param name="Bytes">Size in bytes.</param>
/// <param name="Url">Where a hub file was downloaded from.</param>
/// <param name="JoinedAs">
/// For a file read whole and joined into the rows rather than read as rows: what it supplied (<c>answers</c>,
/// <c>questions</c>); null for the row files.
/// </param>
public sealed record ImportedFile(string Name, long Bytes, string? Url = null, string? JoinedAs = null);

/// <summary>How many rows were rejected for one reason, with examples.</summary>
/// <param name="Reason">Stable code (<see cref="RejectionReasons"/>).</param>
/// <param name="Count">Rows rejected for it.</param>
/// <param name="Examples">Up to <see cref="ImportReport.MaxExamples"/> rows.</param>
public sealed record RejectionSummary(string Reason, int Count, IReadOnlyList<RowExample> Examples);

/// <summary>One dropped row: its position in the source, what was wrong, and the start of its text.</summary>
/// <param name="RowIndex">Zero-based position of the row in the source.</param>
/// <param name="Detail">What was wrong, e.g. "10,485,760 characters; the maximum is 100,000".</param>
/// <param name="Preview">The first 200 characters of the prompt, if there is one.</param>
public sealed record RowExample(long RowIndex, string Detail, string? Preview);

/// <summary>Codes of the reasons a row is rejected.</summary>
public static class RejectionReasons
{
    /// <summary>The line or field is not valid UTF-8.</summary>
    public const string InvalidUtf8 = "invalid-utf8";
    /// <summary>A JSON line does not parse, or is not an object.</summary>
    public const string InvalidJson = "invalid-json";
    /// <summary>A CSV record has broken quoting.</summary>
    public const string MalformedCsv = "malformed-csv";
    /// <summary>A line is longer than the reader accepts.</summary>
    public const string LineTooLong = "line-too-long";
    /// <summary>A required value is missing (null) or not text.</summary>
    public const string MissingValue = "missing-value";
    /// <summary>The prompt is empty or whitespace.</summary>
    public const string EmptyPrompt = "empty-prompt";
    /// <summary>A response of a pair is empty or whitespace.</summary>
    public const string EmptyResponse = "empty-response";
    /// <summary>Both responses of a pair are the same text.</summary>
    public const string IdenticalResponses = "identical-responses";
    /// <summary>The prompt is shorter than the minimum.</summary>
    public const string TooShort = "too-short";
    /// <summary>The prompt or a response is longer than the maximum.</summary>
    public const string TooLong = "too-long";
    /// <summary>The text contains U+0000, which PostgreSQL cannot store.</summary>
    public const string NulCharacter = "nul-character";
    /// <summary>The instruction's language is not the one asked for, or unknown.</summary>
    public const string Language = "language";
    /// <summary>Flagged toxic and toxic rows are dropped.</summary>
    public const string Toxic = "toxic";
    /// <summary>Flagged redacted and redacted rows are dropped.</summary>
    public const string Redacted = "redacted";
    /// <summary>A conversation has no user turn.</summary>
    public const string NoUserTurn = "no-user-turn";
    /// <summary>HH-RLHF: chosen and rejected differ before their final assistant turn.</summary>
    public const string TranscriptMismatch = "transcript-mismatch";
    /// <summary>A label value the preset does not know.</summary>
    public const string UnknownLabel = "unknown-label";
    /// <summary>HelpSteer2: a row whose neighbour does not answer the same prompt, so it has no pair.</summary>
    public const string UnpairedRow = "unpaired-row";
    /// <summary>An attribute score is missing or not a number.</summary>
    public const string InvalidScore = "invalid-score";
    /// <summary>
    /// MT-Bench: a vote on a turn other than 1. Turn-2 votes compare two whole conversations whose first answers differ
    /// between the models, which one prompt with two responses cannot hold.
    /// </summary>
    public const string UnsupportedTurn = "unsupported-turn";
    /// <summary>MT-Bench two-file form: the answers file has no answer by the voted model to the question.</summary>
    public const string MissingAnswer = "missing-answer";
    /// <summary>MT-Bench: the vote's question is not in the questions file.</summary>
    public const string UnknownQuestion = "unknown-question";
}
