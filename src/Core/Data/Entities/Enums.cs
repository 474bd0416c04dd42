using System.Text.Json.Serialization;

namespace SelfTaught.Core.Data.Entities;

/// <summary>What a dataset's rows are used for.</summary>
public enum DatasetRole
{
    /// <summary>Unlabeled prompts (e.g. WildChat) that experiments select from and synthesize pairs for.</summary>
    InstructionPool,
    /// <summary>Human- or rule-labeled preference pairs (HelpSteer2, hh-rlhf, GSM8K-style graded data) mixed into training.</summary>
    LabeledPairs,
    /// <summary>Evaluation data (RewardBench, MT-Bench human judgments, HelpSteer2 validation).</summary>
    Benchmark,
}

/// <summary>Life cycle of a dataset: hidden while its import runs, so a failed import leaves no trace.</summary>
public enum DatasetStatus
{
    Importing,
    Ready,
}

/// <summary>A response slot in a pairwise comparison.</summary>
public enum Position
{
    A,
    B,
}

/// <summary>The label a labeled pair carries.</summary>
public enum GoldLabel
{
    A,
    B,
    Tie,
}

/// <summary>A parsed judge verdict; <see cref="Invalid"/> when the output cannot be parsed.</summary>
public enum Verdict
{
    A,
    B,
    Invalid,
}

/// <summary>How a preference pair was produced (paper §3.1, Table 6).</summary>
public enum PairMethod
{
    /// <summary>Modified-instruction synthesis, paper Fig. 2.</summary>
    ModifiedInstruction,
    /// <summary>Worse-response rewrite ablation, paper Fig. 10.</summary>
    WorseResponse,
    /// <summary>HelpSteer2 rows: better response by weighted attribute score.</summary>
    HelpSteer2,
    /// <summary>hh-rlhf chosen/rejected rows.</summary>
    HhRlhf,
    /// <summary>GSM8K-style: a correct and an incorrect sampled solution graded against the reference answer.</summary>
    GradedMath,
    /// <summary>Any other imported labeled pair.</summary>
    Labeled,
}

/// <summary>Life cycle of a pair.</summary>
public enum PairStatus
{
    Pending,
    Ready,
    Failed,
}

/// <summary>Outcome of judging one pair in one iteration.</summary>
public enum AnnotationStatus
{
    Pending,
    /// <summary>At least one correct sample; one was kept.</summary>
    Kept,
    /// <summary>No correct sample among those drawn; the pair is dropped from training.</summary>
    Dropped,
    Failed,
}

/// <summary>Kind of a long-running stage.</summary>
public enum StageKind
{
    Import,
    Categorize,
    Select,
    GeneratePairs,
    Judge,
    BuildTrainingSet,
    Evaluate,
}

/// <summary>Status of a stage run.</summary>
public enum StageStatus
{
    Queued,
    Running,
    Paused,
    Cancelling,
    Cancelled,
    Failed,
    Completed,
}

/// <summary>Wire protocol of an LLM server.</summary>
public enum BackendKind
{
    Ollama,
    OpenAICompatible,
}

/// <summary>Which benchmark protocol an evaluation run follows.</summary>
public enum BenchmarkKind
{
    /// <summary>RewardBench's filtered split, scored with its official weights.</summary>
    [JsonStringEnumMemberName("rewardbench")] RewardBench,
    /// <summary>Agreement with MT-Bench human votes.</summary>
    [JsonStringEnumMemberName("mtbench")] MtBench,
    /// <summary>HelpSteer2 validation pairs.</summary>
    [JsonStringEnumMemberName("helpsteer2")] HelpSteer2,
    /// <summary>Any labeled pair set, including an experiment's held-out synthetic pairs.</summary>
    [JsonStringEnumMemberName("pairs")] Pairs,
}

/// <summary>Which order(s) an evaluation shows the chosen response in.</summary>
public enum PositionMode
{
    /// <summary>Each example in both orders, scores averaged (paper default).</summary>
    [JsonStringEnumMemberName("both")] Both,
    /// <summary>The chosen response always as A.</summary>
    [JsonStringEnumMemberName("chosen-first")] ChosenFirst,
    /// <summary>The chosen response always as B.</summary>
    [JsonStringEnumMemberName("chosen-second")] ChosenSecond,
    /// <summary>A seeded coin per example; the order is stored with each result.</summary>
    [JsonStringEnumMemberName("random")] Random,
}

/// <summary>Status of an iteration.</summary>
public enum IterationStatus
{
    Created,
    Judging,
    Judged,
    TrainingSetBuilt,
    ModelRegistered,
    Completed,
}

/// <summary>Export flavour of a training set.</summary>
public enum TrainingSetKind
{
    /// <summary>TRL prompt–completion SFT data.</summary>
    Sft,
    /// <summary>Prompt / chosen / rejected DPO data.</summary>
    Dpo,
}

/// <summary>How an instruction was found to overlap a benchmark prompt.</summary>
public enum ContaminationKind
{
    None,
    ExactMatch,
    NGramOverlap,
}

/// <summary>How an audit sample was drawn.</summary>
public enum AuditSampling
{
    Random,
    Stratified,
}

/// <summary>A reviewer's answer to a blind comparison, in displayed order.</summary>
public enum AuditChoice
{
    A,
    B,
    Tie,
    Skip,
}
