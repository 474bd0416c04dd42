using System.Text.Json;
using System.Text.Json.Serialization;
using SelfTaught.Core.Data.Entities;
using static System.FormattableString;

namespace SelfTaught.Core.Experiments;

/// <summary>
/// An experiment's settings, stored as JSON in <see cref="Experiment.SettingsJson"/>. Defaults follow the paper
/// (Table 8 and §4) where it says something, and are marked otherwise.
/// </summary>
public sealed record ExperimentSettings
{
    /// <summary>How pairs are made.</summary>
    public GenerationSettings Generation { get; init; } = new();

    /// <summary>How the judge annotates pairs in each iteration.</summary>
    public JudgingSettings Judging { get; init; } = new();

    /// <summary>How training sets are built.</summary>
    public TrainingSettings Training { get; init; } = new();

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = false,
    };

    /// <summary>Serialized form stored in the database.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads settings stored by <see cref="ToJson"/>; missing fields take their defaults.</summary>
    public static ExperimentSettings FromJson(string? json) =>
        string.IsNullOrWhiteSpace(json) ? new() : JsonSerializer.Deserialize<ExperimentSettings>(json, Json) ?? new();

    /// <summary>Every problem with these settings, each naming its field; empty when they are valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Generation is null || Judging is null || Training is null)
            return ["settings.generation, settings.judging and settings.training must be objects (omit one for its defaults), not null."];
        problems.AddRange(Generation.Problems("settings.generation."));

        var j = Judging;
        if (j.Samples is < 1 or > 256) problems.Add(Invariant($"settings.judging.samples must be 1–256, not {j.Samples}."));
        Sampling("settings.judging", j.Temperature, j.TopP, j.MaxTokens, problems);
        if (j.FullNShare is <= 0 or > 1 || double.IsNaN(j.FullNShare))
            problems.Add(Invariant($"settings.judging.fullNShare must be above 0 and at most 1, not {j.FullNShare}."));
        if (j.FullNMinimum < 0) problems.Add(Invariant($"settings.judging.fullNMinimum must not be negative, not {j.FullNMinimum}."));
        if (j.EarlyStopBatch < 1 || j.EarlyStopBatch > Math.Max(1, j.Samples))
            problems.Add(Invariant($"settings.judging.earlyStopBatch must be 1–samples ({j.Samples}), not {j.EarlyStopBatch}."));
        if (j.MaxChoicesPerRequest is < 1 or > 128)
            problems.Add(Invariant($"settings.judging.maxChoicesPerRequest must be 1–128, not {j.MaxChoicesPerRequest}."));

        if (Training.MaxLengthTokens < 1) problems.Add(Invariant($"settings.training.maxLengthTokens must be positive, not {Training.MaxLengthTokens}."));
        return problems;
    }

    internal static void Sampling(string prefix, double temperature, double topP, int maxTokens, List<string> problems)
    {
        prefix = prefix.Length == 0 ? "" : prefix + ".";
        if (temperature is < 0 or > 2 || double.IsNaN(temperature)) problems.Add(Invariant($"{prefix}temperature must be 0–2, not {temperature}."));
        if (topP is <= 0 or > 1 || double.IsNaN(topP)) problems.Add(Invariant($"{prefix}topP must be above 0 and at most 1, not {topP}."));
        if (maxTokens is < 1 or > 1_000_000) problems.Add(Invariant($"{prefix}maxTokens must be 1–1,000,000, not {maxTokens}."));
    }
}

/// <summary>Pair synthesis settings.</summary>
public sealed record GenerationSettings
{
    /// <summary><see cref="PairMethod.ModifiedInstruction"/> (paper Fig. 2, default) or <see cref="PairMethod.WorseResponse"/> (Fig. 10 ablation).</summary>
    public PairMethod Method { get; init; } = PairMethod.ModifiedInstruction;

    /// <summary>Sampling temperature of the generator. Default 0.7 (the paper does not state one for generation).</summary>
    public double Temperature { get; init; } = 0.7;

    /// <summary>Nucleus sampling of the generator. Default 0.9.</summary>
    public double TopP { get; init; } = 0.9;

    /// <summary>Token limit of each generation. Default 2,048.</summary>
    public int MaxTokens { get; init; } = 2_048;

    /// <summary>Calls per pair before an output without its markers marks the pair failed. Default 3.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Seeded share of pairs held out of every training set, for checkpoint selection. Default 0.05.</summary>
    public double HeldOutShare { get; init; } = 0.05;

    /// <summary>
    /// Template version (a <c>response-generation</c> row id) that generates y_w. Default null: the built-in template.
    /// </summary>
    public long? ResponseTemplateId { get; init; }

    /// <summary>
    /// Template version that makes y_l: a <c>pair-synthesis</c> row id for <see cref="PairMethod.ModifiedInstruction"/>, a
    /// <c>worse-response-rewrite</c> row id for <see cref="PairMethod.WorseResponse"/>. Default null: the built-in template.
    /// </summary>
    public long? SynthesisTemplateId { get; init; }

    /// <summary>
    /// Make synthetic pairs from the selected instructions (<see cref="Method"/>). Default true; false makes pairs from
    /// <see cref="Mix"/> alone (paper Table 6, ratio 0 : 1).
    /// </summary>
    public bool IncludeSynthetic { get; init; } = true;

    /// <summary>K, solutions sampled per question of a <see cref="PairMethod.GradedMath"/> source (2–32). Default 4.</summary>
    public int GradedSamples { get; init; } = 4;

    /// <summary>Labeled or graded sources mixed with the synthetic pairs (paper Table 6); at most one per kind. Default none.</summary>
    public IReadOnlyList<PairMixSource> Mix { get; init; } = [];

    /// <summary>Equal when every setting is, the mix sources compared in order.</summary>
    public bool Equals(GenerationSettings? other) =>
        other is not null && Method == other.Method && Temperature.Equals(other.Temperature) && TopP.Equals(other.TopP)
        && MaxTokens == other.MaxTokens && MaxAttempts == other.MaxAttempts && HeldOutShare.Equals(other.HeldOutShare)
        && IncludeSynthetic == other.IncludeSynthetic && GradedSamples == other.GradedSamples
        && ResponseTemplateId == other.ResponseTemplateId && SynthesisTemplateId == other.SynthesisTemplateId
        && (ReferenceEquals(Mix, other.Mix) || (Mix is not null && other.Mix is not null && Mix.SequenceEqual(other.Mix)));

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Method, Temperature, TopP, MaxTokens, MaxAttempts, HeldOutShare, IncludeSynthetic, Mix?.Count ?? -1);

    /// <summary>Kinds a <see cref="PairMixSource"/> may have.</summary>
    public static IReadOnlyList<PairMethod> MixKinds { get; } = [PairMethod.HelpSteer2, PairMethod.HhRlhf, PairMethod.GradedMath];

    /// <summary>Every problem with these settings, each naming its field after <paramref name="prefix"/> (e.g. <c>settings.generation.</c>); empty when valid.</summary>
    public IReadOnlyList<string> Problems(string prefix = "")
    {
        var problems = new List<string>();
        if (Method is not (PairMethod.ModifiedInstruction or PairMethod.WorseResponse))
            problems.Add($"{prefix}method must be ModifiedInstruction or WorseResponse, not {Method}.");
        ExperimentSettings.Sampling(prefix.TrimEnd('.'), Temperature, TopP, MaxTokens, problems);
        if (MaxAttempts is < 1 or > 10) problems.Add(Invariant($"{prefix}maxAttempts must be 1–10, not {MaxAttempts}."));
        if (HeldOutShare is < 0 or >= 1 || double.IsNaN(HeldOutShare))
            problems.Add(Invariant($"{prefix}heldOutShare must be at least 0 and below 1, not {HeldOutShare}."));
        if (ResponseTemplateId is <= 0)
            problems.Add(Invariant($"{prefix}responseTemplateId must be a template id (positive) or null for the built-in, not {ResponseTemplateId}."));
        if (SynthesisTemplateId is <= 0)
            problems.Add(Invariant($"{prefix}synthesisTemplateId must be a template id (positive) or null for the built-in, not {SynthesisTemplateId}."));
        if (GradedSamples is < 2 or > 32) problems.Add(Invariant($"{prefix}gradedSamples must be 2–32 (a correct and an incorrect solution are needed), not {GradedSamples}."));
        if (Mix is null) return [.. problems, $"{prefix}mix must be a list (empty for none), not null."];
        for (var i = 0; i < Mix.Count; i++)
        {
            var field = Invariant($"{prefix}mix[{i}]");
            if (Mix[i] is not { } source)
            {
                problems.Add($"{field} is null; give {{ datasetId, kind, count }} or {{ datasetId, kind, ratio }}.");
                continue;
            }
            if (source.DatasetId < 1) problems.Add(Invariant($"{field}.datasetId must name an imported dataset, not {source.DatasetId}."));
            if (!MixKinds.Contains(source.Kind))
                problems.Add($"{field}.kind must be HelpSteer2, HhRlhf or GradedMath, not {source.Kind}.");
            else if (Mix.Take(i).Any(m => m?.Kind == source.Kind))
                problems.Add($"{field}.kind {source.Kind} is mixed in twice; use one source per kind.");
            if (source.Count is null == source.Ratio is null)
                problems.Add($"{field} needs either count (pairs) or ratio (pairs per synthetic pair), not {(source.Count is null ? "neither" : "both")}.");
            if (source.Count is < 1) problems.Add(Invariant($"{field}.count must be at least 1, not {source.Count}."));
            if (source.Ratio is { } ratio && (ratio is <= 0 or > 1000 || double.IsNaN(ratio)))
                problems.Add(Invariant($"{field}.ratio must be above 0 and at most 1000, not {ratio}."));
            if (source.Ratio is not null && !IncludeSynthetic)
                problems.Add($"{field}.ratio is relative to the synthetic pairs, but includeSynthetic is false; give a count instead.");
        }
        if (!IncludeSynthetic && Mix.Count == 0)
            problems.Add($"{prefix}includeSynthetic is false and mix is empty: there would be no pairs to make.");
        return problems;
    }
}

/// <summary>
/// A labeled or graded source mixed into an experiment's pairs (paper Table 6). Give either <see cref="Count"/> or
/// <see cref="Ratio"/>: a ratio r asks for round(r × S) pairs, S being the selected, non-excluded instructions (the
/// synthetic pairs attempted), so Table 6's synthetic : HelpSteer2 = 1 : 2 is ratio 2. Which rows are used is a
/// seeded draw (<see cref="Pairs.MixSelection"/>).
/// </summary>
public sealed record PairMixSource
{
    /// <summary>
    /// The dataset: for <see cref="PairMethod.HhRlhf"/> one imported with preset <c>hh-rlhf</c>, for
    /// <see cref="PairMethod.HelpSteer2"/> one imported with preset <c>helpsteer2</c> (both as labeled pairs, not as a
    /// benchmark), for <see cref="PairMethod.GradedMath"/> an instruction pool with reference answers (preset <c>gsm8k</c>).
    /// </summary>
    public long DatasetId { get; init; }

    /// <summary><see cref="PairMethod.HelpSteer2"/>, <see cref="PairMethod.HhRlhf"/> or <see cref="PairMethod.GradedMath"/>.</summary>
    public PairMethod Kind { get; init; }

    /// <summary>Pairs (or, for graded math, questions) to take.</summary>
    public int? Count { get; init; }

    /// <summary>Pairs per synthetic pair, instead of <see cref="Count"/>.</summary>
    public double? Ratio { get; init; }
}

/// <summary>Judgment annotation settings (paper §3 and Table 8).</summary>
public sealed record JudgingSettings
{
    /// <summary>N, judgments sampled per pair. Default 15 (paper).</summary>
    public int Samples { get; init; } = 15;

    /// <summary>Default 0.7 (paper Table 8, "Train Judgment").</summary>
    public double Temperature { get; init; } = 0.7;

    /// <summary>Default 0.9 (paper Table 8).</summary>
    public double TopP { get; init; } = 0.9;

    /// <summary>Token limit of each judgment. Default 4,096.</summary>
    public int MaxTokens { get; init; } = 4_096;

    /// <summary>Opt-in early stop: keep the lowest-index correct sample and stop drawing (DESIGN §1 step 3). Default off.</summary>
    public bool EarlyStop { get; init; }

    /// <summary>Under early stop, the seeded share of pairs still judged with all N samples, for agreement statistics. Default 0.10.</summary>
    public double FullNShare { get; init; } = 0.10;

    /// <summary>Under early stop, at least this many pairs are judged with all N samples. Default 100.</summary>
    public int FullNMinimum { get; init; } = 100;

    /// <summary>Under early stop, samples drawn at once (in sample-index order) before checking for a correct one. Default 1.</summary>
    public int EarlyStopBatch { get; init; } = 1;

    /// <summary>
    /// Ask for several samples in one request (<c>n</c>) where the endpoint accepts it, so the prompt is processed once.
    /// Default true; where the endpoint has no <c>n</c> (Ollama, llama.cpp) samples are parallel requests either way.
    /// </summary>
    public bool BatchSamples { get; init; } = true;

    /// <summary>Most choices asked for in one request. Default 16.</summary>
    public int MaxChoicesPerRequest { get; init; } = 16;
}

/// <summary>Training-set settings.</summary>
public sealed record TrainingSettings
{
    /// <summary>Rows estimated longer than this many tokens are flagged. Default 4,096 (paper).</summary>
    public int MaxLengthTokens { get; init; } = 4_096;

    /// <summary>
    /// Leave rows estimated longer than <see cref="MaxLengthTokens"/> out of the training set (before balancing) instead
    /// of only flagging them. Default false: they are kept, counted and marked in the manifest, because trainers
    /// truncate such rows at their max_length, which can cut the verdict off the end of the judgment.
    /// </summary>
    public bool ExcludeOverMaxLength { get; init; }
}
