namespace SelfTaught.Core.Data.Entities;

/// <summary>An imported file or hub dataset; its rows are <see cref="Instruction"/>s or <see cref="LabeledPair"/>s depending on <see cref="Role"/>.</summary>
public class Dataset
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public DatasetRole Role { get; set; }
    /// <summary>Importing until the import completes; lists and pages show only Ready datasets.</summary>
    public DatasetStatus Status { get; set; } = DatasetStatus.Ready;
    /// <summary>Rows rejected by the import (empty prompt, too long, bad encoding, ...).</summary>
    public int RejectedCount { get; set; }
    /// <summary>Rows dropped as exact duplicates of an earlier row (normalized text).</summary>
    public int DuplicateCount { get; set; }
    /// <summary>Import report (rejection reasons with examples, filters applied) as JSON.</summary>
    public string? ImportReportJson { get; set; }
    /// <summary>Import preset used (wildchat, rewardbench, helpsteer2, ...), if any.</summary>
    public string? Preset { get; set; }
    /// <summary>File path, upload name or hub id (owner/name) the rows came from.</summary>
    public string? Source { get; set; }
    public string? SourceConfig { get; set; }
    public string? SourceSplit { get; set; }
    public string? SourceRevision { get; set; }
    /// <summary>SHA-256 of the imported bytes, for provenance.</summary>
    public string? ContentHash { get; set; }
    /// <summary>Import options (format, column mapping, filters) as JSON.</summary>
    public string? OptionsJson { get; set; }
    public int RowCount { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }

    public List<Instruction> Instructions { get; set; } = [];
    public List<LabeledPair> LabeledPairs { get; set; } = [];
}

/// <summary>An unlabeled prompt of an instruction pool, with the results of instruction analysis (paper Fig. 7).</summary>
public class Instruction
{
    public long Id { get; set; }
    public long DatasetId { get; set; }
    public Dataset? Dataset { get; set; }
    /// <summary>Zero-based position in the source; the idempotency key of import.</summary>
    public int RowIndex { get; set; }
    /// <summary>Identifier in the source, e.g. WildChat's conversation_hash.</summary>
    public string? SourceId { get; set; }
    public required string Text { get; set; }
    public string? Language { get; set; }
    public int TurnCount { get; set; } = 1;
    /// <summary>Reference answer where the source has one (GSM8K's text after <c>####</c>).</summary>
    public string? ReferenceAnswer { get; set; }
    /// <summary>Source row fields not mapped to columns, as JSON.</summary>
    public string? MetadataJson { get; set; }
    /// <summary>Hash of the normalized text, for contamination and duplicate checks.</summary>
    public string? NormalizedHash { get; set; }

    public string? Category { get; set; }
    /// <summary>Complexity 1–10.</summary>
    public int? Complexity { get; set; }
    /// <summary>Expected response length bucket a–e.</summary>
    public char? LengthBucket { get; set; }
    public string? AnalysisModel { get; set; }
    public long? AnalysisTemplateId { get; set; }
    public PromptTemplate? AnalysisTemplate { get; set; }
    public string? AnalysisRawOutput { get; set; }
    public string? AnalysisError { get; set; }
    public DateTime? AnalyzedAt { get; set; }
    public long? AnalysisStageRunId { get; set; }
}

/// <summary>A labeled comparison: a prompt, two responses and which one is better.</summary>
public class LabeledPair
{
    public long Id { get; set; }
    public long DatasetId { get; set; }
    public Dataset? Dataset { get; set; }
    public int RowIndex { get; set; }
    /// <summary>Source subset, e.g. RewardBench's <c>alpacaeval-easy</c>.</summary>
    public string? Subset { get; set; }
    /// <summary>Source id; not unique alone (RewardBench repeats ids across subsets).</summary>
    public string? SourceId { get; set; }
    public required string Prompt { get; set; }
    public required string ResponseA { get; set; }
    public required string ResponseB { get; set; }
    public GoldLabel Gold { get; set; }
    /// <summary>Turn the comparison is about (MT-Bench), 1 otherwise.</summary>
    public int Turn { get; set; } = 1;
    public string? ModelA { get; set; }
    public string? ModelB { get; set; }
    /// <summary>Who produced the label (MT-Bench judge id such as <c>expert_12</c>).</summary>
    public string? Judge { get; set; }
    /// <summary>Per-attribute scores of response A (HelpSteer2: helpfulness, correctness, coherence, complexity, verbosity) as JSON.</summary>
    public string? AttributeScoresAJson { get; set; }
    public string? AttributeScoresBJson { get; set; }
    public string? MetadataJson { get; set; }
    public string? NormalizedPromptHash { get; set; }
}
