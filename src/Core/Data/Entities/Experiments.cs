namespace SelfTaught.Core.Data.Entities;

/// <summary>A seed judge model, an instruction pool and settings; owns its pairs and iterations.</summary>
public class Experiment
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public long InstructionDatasetId { get; set; }
    public Dataset? InstructionDataset { get; set; }
    public string? SeedEndpoint { get; set; }
    public required string SeedModel { get; set; }
    public string? GeneratorEndpoint { get; set; }
    public required string GeneratorModel { get; set; }
    public string? JudgeEndpoint { get; set; }
    /// <summary>Judge of iteration 1 (the paper used Mixtral 8x22B-Instruct).</summary>
    public required string JudgeModel { get; set; }
    /// <summary>Master seed every random choice of the experiment derives from.</summary>
    public long Seed { get; set; }
    /// <summary>Experiment settings (selection, synthesis, sampling, ratios) as JSON.</summary>
    public string SettingsJson { get; set; } = "{}";
    public DateTime CreatedAt { get; set; }

    public List<Iteration> Iterations { get; set; } = [];
    public List<Pair> Pairs { get; set; } = [];
    public List<ExperimentInstruction> SelectedInstructions { get; set; } = [];
}

/// <summary>An instruction chosen by an experiment's <c>select</c> stage, with its contamination check.</summary>
public class ExperimentInstruction
{
    public long Id { get; set; }
    public long ExperimentId { get; set; }
    public Experiment? Experiment { get; set; }
    public long InstructionId { get; set; }
    public Instruction? Instruction { get; set; }
    public ContaminationKind Contamination { get; set; }
    /// <summary>The benchmark row it matched (dataset/subset/id), if contaminated.</summary>
    public string? ContaminationMatch { get; set; }
    /// <summary>Excluded from pair synthesis (contaminated rows are by default).</summary>
    public bool Excluded { get; set; }
    public long? StageRunId { get; set; }
}

/// <summary>A preference pair: y_w is better than y_l for instruction x.</summary>
public class Pair
{
    public long Id { get; set; }
    public long ExperimentId { get; set; }
    public Experiment? Experiment { get; set; }
    public long? InstructionId { get; set; }
    public Instruction? Instruction { get; set; }
    public long? SourceLabeledPairId { get; set; }
    public LabeledPair? SourceLabeledPair { get; set; }
    public PairMethod Method { get; set; }
    /// <summary>The instruction x.</summary>
    public required string Prompt { get; set; }
    /// <summary>x′, the modified instruction (modified-instruction method only).</summary>
    public string? ModifiedPrompt { get; set; }
    /// <summary>y_w.</summary>
    public string? Chosen { get; set; }
    /// <summary>y_l.</summary>
    public string? Rejected { get; set; }
    public string? GeneratorEndpoint { get; set; }
    public string? GeneratorModel { get; set; }
    /// <summary>Template version of the step that made y_l (pair synthesis, or the worse-response rewrite).</summary>
    public long? TemplateId { get; set; }
    public PromptTemplate? Template { get; set; }
    /// <summary>Template version that generated y_w (plain response generation); null for pairs from labeled data.</summary>
    public long? ResponseTemplateId { get; set; }
    public PromptTemplate? ResponseTemplate { get; set; }
    /// <summary>Stage-specific details as JSON (e.g. the graded solutions of a math pair, the attribute scores of a HelpSteer2 pair).</summary>
    public string? DetailsJson { get; set; }
    /// <summary>Raw generator output the pair was parsed from (kept on failure too).</summary>
    public string? RawOutput { get; set; }
    public PairStatus Status { get; set; }
    public string? Error { get; set; }
    public int Attempts { get; set; }
    /// <summary>Held out from every training set, for checkpoint selection.</summary>
    public bool HeldOut { get; set; }
    public int PromptTokens { get; set; }
    public int CompletionTokens { get; set; }
    public long? StageRunId { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>Iteration i: judged by M_{i-1}, it yields training data for M_i.</summary>
public class Iteration
{
    public long Id { get; set; }
    public long ExperimentId { get; set; }
    public Experiment? Experiment { get; set; }
    /// <summary>1-based iteration number.</summary>
    public int Number { get; set; }
    public string? JudgeEndpoint { get; set; }
    public required string JudgeModel { get; set; }
    /// <summary>The chosen candidate of the previous iteration that judges this one; null for iteration 1.</summary>
    public long? JudgeCandidateModelId { get; set; }
    public CandidateModel? JudgeCandidateModel { get; set; }
    public long? JudgeTemplateId { get; set; }
    public PromptTemplate? JudgeTemplate { get; set; }
    public long Seed { get; set; }
    /// <summary>Samples per pair (paper: 15).</summary>
    public int SamplesPerPair { get; set; } = 15;
    public bool EarlyStop { get; set; }
    public IterationStatus Status { get; set; }
    public string SettingsJson { get; set; } = "{}";
    /// <summary>Statistics of the iteration's judge and training-set stages as JSON, stored when each stage completes.</summary>
    public string? StatisticsJson { get; set; }
    public DateTime CreatedAt { get; set; }

    public List<CandidateModel> CandidateModels { get; set; } = [];
}

/// <summary>One pair judged in one iteration: the placement of y_w, the rendered judge prompt (stored once) and the kept sample.</summary>
public class Annotation
{
    public long Id { get; set; }
    public long IterationId { get; set; }
    public Iteration? Iteration { get; set; }
    public long PairId { get; set; }
    public Pair? Pair { get; set; }
    /// <summary>Where y_w was placed (seeded).</summary>
    public Position ChosenPosition { get; set; }
    /// <summary>The synthetic label: the position of y_w.</summary>
    public Position Gold { get; set; }
    public required string JudgePrompt { get; set; }
    public long? TemplateId { get; set; }
    public PromptTemplate? Template { get; set; }
    public AnnotationStatus Status { get; set; }
    /// <summary>Sample index of the kept correct judgment, if any.</summary>
    public int? KeptSampleIndex { get; set; }
    /// <summary>All N samples were drawn (always true without early stop; the full-N subsample under it).</summary>
    public bool FullN { get; set; }
    public int SamplesDrawn { get; set; }
    public int CorrectCount { get; set; }
    public int InvalidCount { get; set; }
    public DateTime CreatedAt { get; set; }

    public List<JudgmentSample> Samples { get; set; } = [];
}

/// <summary>One sampled judgment; unique on (iteration, pair, sample index).</summary>
public class JudgmentSample
{
    public long Id { get; set; }
    public long AnnotationId { get; set; }
    public Annotation? Annotation { get; set; }
    public long IterationId { get; set; }
    public long PairId { get; set; }
    public int SampleIndex { get; set; }
    public long? TemplateId { get; set; }
    public string? RawCompletion { get; set; }
    public Verdict? Verdict { get; set; }
    /// <summary>Verdict equals the gold label; null when the call failed.</summary>
    public bool? Correct { get; set; }
    /// <summary>Model identity: name plus digest or served id.</summary>
    public string? Model { get; set; }
    public string? Endpoint { get; set; }
    public double Temperature { get; set; }
    public double TopP { get; set; }
    public int MaxTokens { get; set; }
    public long? RequestSeed { get; set; }
    /// <summary>Index of this sample among the choices of an <c>n</c>-batched request.</summary>
    public int ChoiceIndex { get; set; }
    public int? PromptTokens { get; set; }
    public int? CompletionTokens { get; set; }
    public int? LatencyMs { get; set; }
    public string? FinishReason { get; set; }
    public string? Error { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A trained checkpoint registered for an iteration; one per iteration is chosen as M_i.</summary>
public class CandidateModel
{
    public long Id { get; set; }
    public long IterationId { get; set; }
    public Iteration? Iteration { get; set; }
    public required string Name { get; set; }
    public string? Endpoint { get; set; }
    public required string Model { get; set; }
    /// <summary>Ollama digest or served model id, recorded at registration.</summary>
    public string? Digest { get; set; }
    public int? Checkpoint { get; set; }
    public bool IsChosen { get; set; }
    public string? Notes { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A balanced training set built from an iteration's kept judgments.</summary>
public class TrainingSet
{
    public long Id { get; set; }
    public long IterationId { get; set; }
    public Iteration? Iteration { get; set; }
    public TrainingSetKind Kind { get; set; }
    public long Seed { get; set; }
    public int Size { get; set; }
    public int GoldACount { get; set; }
    public int GoldBCount { get; set; }
    public int OverMaxLengthCount { get; set; }
    public string ManifestJson { get; set; } = "{}";
    public string? ContentHash { get; set; }
    public long? StageRunId { get; set; }
    public DateTime CreatedAt { get; set; }

    public List<TrainingSetMember> Members { get; set; } = [];
}

/// <summary>One example of a training set.</summary>
public class TrainingSetMember
{
    public long Id { get; set; }
    public long TrainingSetId { get; set; }
    public TrainingSet? TrainingSet { get; set; }
    public long AnnotationId { get; set; }
    public Annotation? Annotation { get; set; }
    /// <summary>The kept (correct) judgment; the completion of SFT and the chosen side of DPO.</summary>
    public long ChosenSampleId { get; set; }
    /// <summary>An incorrect judgment of the same input (DPO only).</summary>
    public long? RejectedSampleId { get; set; }
    public int Ordinal { get; set; }
    public int? TokenCount { get; set; }
    public bool OverMaxLength { get; set; }
}
