namespace SelfTaught.Core.Data.Entities;

/// <summary>An LLM server endpoint edited on the Settings page. The API key is stored only as a reference (an environment variable or user-secret name), never in clear text.</summary>
public class BackendEndpoint
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public BackendKind Kind { get; set; }
    public required string BaseUrl { get; set; }
    public string? DefaultModel { get; set; }
    public int MaxConcurrentRequests { get; set; } = 4;
    public int RequestTimeoutSeconds { get; set; } = 600;
    /// <summary>Name of the environment variable or user secret holding the API key.</summary>
    public string? ApiKeyReference { get; set; }
    /// <summary>Ollama context window sent with every request (<c>num_ctx</c>).</summary>
    public int? NumCtx { get; set; }
    /// <summary>Whether the server accepts <c>n</c> &gt; 1 in one request; null = not probed yet.</summary>
    public bool? AcceptsN { get; set; }
    public bool Enabled { get; set; } = true;
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>A versioned prompt template. Built-in versions come from embedded resources; users copy and edit them.</summary>
public class PromptTemplate
{
    public long Id { get; set; }
    /// <summary>Template family, e.g. <c>judge-pairwise</c>, <c>pair-synthesis</c>, <c>instruction-analysis</c>.</summary>
    public required string Key { get; set; }
    public int Version { get; set; }
    public required string Name { get; set; }
    /// <summary>Where the text comes from (paper figure, or "edited by ...").</summary>
    public string? Source { get; set; }
    public string? SystemText { get; set; }
    public required string UserText { get; set; }
    public bool IsBuiltIn { get; set; }
    public long? ParentId { get; set; }
    /// <summary>SHA-256 of system + user text.</summary>
    public required string ContentHash { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>An evaluation of one judge model on a benchmark or pair set.</summary>
public class EvaluationRun
{
    public long Id { get; set; }
    public BenchmarkKind Benchmark { get; set; }
    public long? DatasetId { get; set; }
    public Dataset? Dataset { get; set; }
    /// <summary>Set when the run uses an experiment's held-out synthetic pairs.</summary>
    public long? ExperimentId { get; set; }
    public Experiment? Experiment { get; set; }
    /// <summary>Set when the run scores a registered checkpoint.</summary>
    public long? CandidateModelId { get; set; }
    public CandidateModel? CandidateModel { get; set; }
    public string? Endpoint { get; set; }
    public required string Model { get; set; }
    /// <summary>Model identity: Ollama digest or served model id.</summary>
    public string? ModelDigest { get; set; }
    public long? TemplateId { get; set; }
    public PromptTemplate? Template { get; set; }
    public PositionMode PositionMode { get; set; }
    /// <summary>Samples per example (k of maj@k); 1 for greedy.</summary>
    public int Samples { get; set; } = 1;
    public double Temperature { get; set; }
    public double TopP { get; set; } = 1;
    public int MaxTokens { get; set; } = 4096;
    public long Seed { get; set; }
    /// <summary>Seeds of repeated runs (HelpSteer2 averages 3) as a JSON array.</summary>
    public string? SeedsJson { get; set; }
    public string? OptionsJson { get; set; }
    /// <summary>True for results scored from an uploaded file of externally produced outcomes.</summary>
    public bool Imported { get; set; }
    public StageStatus Status { get; set; }
    /// <summary>Computed scores (overall, sections, subsets, biases, intervals) as JSON.</summary>
    public string? SummaryJson { get; set; }
    public long? StageRunId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
}

/// <summary>One judged example of an evaluation; unique on (run, example, order, sample index).</summary>
public class EvaluationResult
{
    public long Id { get; set; }
    public long EvaluationRunId { get; set; }
    public EvaluationRun? EvaluationRun { get; set; }
    /// <summary>Stable key of the example within the run, e.g. RewardBench <c>subset/id</c>.</summary>
    public required string ExampleKey { get; set; }
    public long? LabeledPairId { get; set; }
    public long? PairId { get; set; }
    public string? Subset { get; set; }
    /// <summary>Position the chosen (better) response was shown in.</summary>
    public Position ChosenPosition { get; set; }
    public int SampleIndex { get; set; }
    /// <summary>Index among the choices of an <c>n</c>-batched request (maj@k).</summary>
    public int ChoiceIndex { get; set; }
    public string? RawCompletion { get; set; }
    public Verdict? Verdict { get; set; }
    /// <summary>1, 0 or 0.5 (parse error).</summary>
    public double Score { get; set; }
    public long? RequestSeed { get; set; }
    public int? PromptTokens { get; set; }
    public int? CompletionTokens { get; set; }
    public int? LatencyMs { get; set; }
    public string? FinishReason { get; set; }
    public string? Error { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A blind spot-check session over an experiment's pairs and judgments.</summary>
public class AuditSession
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public long ExperimentId { get; set; }
    public Experiment? Experiment { get; set; }
    /// <summary>Restricts the sample to one iteration's annotations, if set.</summary>
    public long? IterationId { get; set; }
    public AuditSampling Sampling { get; set; }
    public long Seed { get; set; }
    public int SampleSize { get; set; }
    /// <summary>Share of items assigned to several reviewers (0–1).</summary>
    public double OverlapShare { get; set; }
    public int ReviewersPerOverlapItem { get; set; } = 2;
    /// <summary>Stratification keys and population sizes, as JSON.</summary>
    public string? StrataJson { get; set; }
    /// <summary>Only pairs whose judge verdict is defined (full-N annotations).</summary>
    public bool CompareWithJudge { get; set; }
    public DateTime CreatedAt { get; set; }

    public List<AuditAssignment> Assignments { get; set; } = [];
}

/// <summary>An item of an audit sample and how it is shown.</summary>
public class AuditAssignment
{
    public long Id { get; set; }
    public long AuditSessionId { get; set; }
    public AuditSession? AuditSession { get; set; }
    public long PairId { get; set; }
    public Pair? Pair { get; set; }
    public long? AnnotationId { get; set; }
    public Annotation? Annotation { get; set; }
    /// <summary>Order in the review queue.</summary>
    public int Ordinal { get; set; }
    /// <summary>Where y_w is displayed (seeded, independent of the judge's placement).</summary>
    public Position DisplayChosenPosition { get; set; }
    public string? Stratum { get; set; }
    /// <summary>Population weight of the stratum for weighted estimates.</summary>
    public double Weight { get; set; } = 1;
    /// <summary>Number of reviewers asked to label this item (≥ 2 for overlap items).</summary>
    public int RequiredReviews { get; set; } = 1;

    public List<AuditLabel> Labels { get; set; } = [];
}

/// <summary>One reviewer's label for an assignment.</summary>
public class AuditLabel
{
    public long Id { get; set; }
    public long AuditAssignmentId { get; set; }
    public AuditAssignment? AuditAssignment { get; set; }
    public required string Reviewer { get; set; }
    /// <summary>The choice as displayed.</summary>
    public AuditChoice Choice { get; set; }
    /// <summary>Whether the reviewer preferred y_w; null for tie and skip.</summary>
    public bool? PrefersChosen { get; set; }
    /// <summary>Optional 1–5 rating of the judge's reasoning.</summary>
    public int? ReasoningRating { get; set; }
    public string? Comment { get; set; }
    public int? DurationMs { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A long-running stage split into chunk jobs; progress and control flags live here so they work across processes.</summary>
public class StageRun
{
    public long Id { get; set; }
    public StageKind Kind { get; set; }
    public long? DatasetId { get; set; }
    public long? ExperimentId { get; set; }
    public long? IterationId { get; set; }
    public long? EvaluationRunId { get; set; }
    /// <summary>Settings at start (endpoint, model, sampling, filters) as JSON.</summary>
    public string SettingsJson { get; set; } = "{}";
    public StageStatus Status { get; set; }
    public int Total { get; set; }
    public int Done { get; set; }
    public int Failed { get; set; }
    public int Skipped { get; set; }
    public long PromptTokens { get; set; }
    public long CompletionTokens { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
    public string? LastError { get; set; }
    public bool PauseRequested { get; set; }
    public bool CancelRequested { get; set; }

    public List<StageRunFailure> Failures { get; set; } = [];
}

/// <summary>An item of a stage run that failed after its retries, kept for display and "retry failed".</summary>
public class StageRunFailure
{
    public long Id { get; set; }
    public long StageRunId { get; set; }
    public StageRun? StageRun { get; set; }
    /// <summary>Id of the failed item (instruction, pair, example) in the stage's own terms.</summary>
    public long ItemId { get; set; }
    public required string Message { get; set; }
    public int Attempts { get; set; }
    public DateTime OccurredAt { get; set; }
}
