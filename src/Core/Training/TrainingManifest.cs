using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using SelfTaught.Core.Experiments;
using static System.FormattableString;

namespace SelfTaught.Core.Training;

/// <summary>
/// <c>manifest.json</c> of an iteration's training set: what it was built from and with, every count, and the SHA-256
/// of each file. It holds no time stamp or run id, so the same inputs and seed give a byte-identical manifest.
/// </summary>
/// <param name="Format">Manifest format version.</param>
/// <param name="ExperimentId">The experiment.</param>
/// <param name="Iteration">1-based iteration number.</param>
/// <param name="Judge">The judge whose judgments are the training data.</param>
/// <param name="Templates">Judge template versions of the rows.</param>
/// <param name="Seeds">Seeds of every random choice.</param>
/// <param name="Sampling">How the judgments were sampled.</param>
/// <param name="Length">The max length and how it is applied.</param>
/// <param name="Counts">Counts over the iteration's annotations.</param>
/// <param name="Sft">Counts of the SFT set (the OpenAI file holds the same rows).</param>
/// <param name="Dpo">Counts of the DPO set.</param>
/// <param name="EarlyStop">Under early stop, what it means for DPO; null otherwise.</param>
/// <param name="Notes">How the set was built, for the reader.</param>
/// <param name="Files">The data files with their rows, sizes and SHA-256.</param>
/// <param name="Pairs">Where the judged pairs came from: generators, methods, template versions, held-out share.</param>
public sealed record TrainingManifest(
    string Format, long ExperimentId, int Iteration, ManifestJudge Judge, IReadOnlyList<ManifestTemplate> Templates, ManifestSeeds Seeds,
    ManifestSampling Sampling, ManifestLength Length, AnnotationCounts Counts, SetCounts Sft, ManifestDpoCounts Dpo, string? EarlyStop,
    IReadOnlyList<string> Notes, IReadOnlyList<WrittenFile> Files, ManifestPairs? Pairs = null)
{
    /// <summary>Value of <see cref="Format"/>.</summary>
    public const string CurrentFormat = "selftaught-training-set/1";

    /// <summary>Serializer settings: camelCase, indented, enums as names, relaxed escaping.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The manifest as written to <c>manifest.json</c> (UTF-8, LF line ends, final newline).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json).ReplaceLineEndings("\n") + "\n";

    /// <summary>UTF-8 bytes of <see cref="ToJson"/>.</summary>
    public byte[] ToUtf8() => Encoding.UTF8.GetBytes(ToJson());

    /// <summary>Reads a manifest written by <see cref="ToJson"/>.</summary>
    public static TrainingManifest? FromJson(string json) => JsonSerializer.Deserialize<TrainingManifest>(json, Json);

    /// <summary>The manifest of <paramref name="plan"/>, whose files were written as <paramref name="files"/>.</summary>
    /// <param name="plan">The planned set.</param>
    /// <param name="files">The data files, as <see cref="TrainingSetWriter.Finish"/> returned them.</param>
    /// <param name="samples">Sampling facts of the samples of annotations not held out (models, endpoints, settings).</param>
    /// <param name="pairs">Provenance of the judged pairs, if known.</param>
    public static TrainingManifest Create(TrainingPlan plan, IReadOnlyList<WrittenFile> files, IEnumerable<SampleInfo> samples, ManifestPairs? pairs = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(samples);
        var input = plan.Input;
        var list = samples.ToList();
        var usedTemplates = plan.Sft.Concat(plan.Dpo).Select(r => r.TemplateId).OfType<long>().ToHashSet();
        var templates = input.Templates.Values.Where(t => usedTemplates.Contains(t.Id)).OrderBy(t => t.Id)
            .Select(t => new ManifestTemplate(t.Id, t.Key, t.Version, t.ContentHash)).ToList();
        var dpo = new ManifestDpoCounts(plan.DpoCounts.Candidates, plan.DpoPairsWithoutIncorrectSample, plan.DpoCounts.ExcludedOverMaxLength,
            plan.DpoCounts.GoldABeforeBalancing, plan.DpoCounts.GoldBBeforeBalancing, plan.DpoCounts.GoldA, plan.DpoCounts.GoldB,
            plan.DpoCounts.Rows, plan.DpoCounts.RemovedByBalancing, plan.DpoCounts.OverMaxLengthRows);
        var usable = plan.SftCounts.Candidates;
        var earlyStop = input.EarlyStop
            ? Invariant($"Judged with early stop: sampling stopped at the first correct judgment, so a pair whose first sample was correct has no incorrect one. DPO rows come only from the {dpo.Candidates:N0} of {usable:N0} usable kept pairs that have an incorrect sample ({dpo.PairsWithoutIncorrectSample:N0} have none), which skews the DPO set toward hard pairs. The SFT set is unaffected.")
            : null;
        return new TrainingManifest(
            CurrentFormat, input.ExperimentId, input.Iteration,
            new ManifestJudge(input.JudgeModel, input.JudgeEndpoint, Distinct(list.Select(s => s.Model)), Distinct(list.Select(s => s.Endpoint))),
            templates,
            new ManifestSeeds(input.ExperimentSeed, input.IterationSeed, plan.BalanceSeed, plan.DpoRejectedSeed),
            new ManifestSampling(input.SamplesPerPair, input.EarlyStop,
                [.. list.Select(s => s.Temperature).Distinct().Order()], [.. list.Select(s => s.TopP).Distinct().Order()],
                [.. list.Select(s => s.MaxTokens).Distinct().Order()]),
            new ManifestLength(input.MaxLengthTokens, input.ExcludeOverMaxLength,
                Invariant($"characters of system text + user prompt + completion (the longer of chosen and rejected for DPO) / {CostEstimate.CharactersPerToken}, rounded up")),
            plan.Counts, plan.SftCounts, dpo, earlyStop, BuildNotes(input), files, pairs);
    }

    private static IReadOnlyList<string> BuildNotes(TrainingSetInput input) =>
    [
        "Only kept judgments of pairs that are not held out are used; held-out pairs never enter a training set.",
        "Labels are balanced by truncation: the larger of gold=A and gold=B keeps as many rows as the smaller, those ranked first by Seeds.Derive(balance seed, pair key) (SHA-256 of the little-endian 64-bit values; the pair key is ((pair method + 1) << 40) | source row index, or the pair id for pairs without a source row). SFT and DPO are balanced separately.",
        "SFT rows: prompt = the judge template's system text + the rendered user judge prompt, completion = the kept correct judgment; TRL trains on the completion only.",
        "DPO rows: chosen = the kept correct judgment, rejected = a judgment with the wrong parsed verdict, picked as Seeds.Derive(DPO seed, pair key) mod count in sample-index order. Invalid (unparsable) judgments are never used as rejected.",
        input.ExcludeOverMaxLength
            ? Invariant($"Rows estimated longer than {input.MaxLengthTokens:N0} tokens were left out before balancing.")
            : Invariant($"Rows estimated longer than {input.MaxLengthTokens:N0} tokens are kept and flagged: trainers truncate them at their max length, which can cut off the verdict."),
        "Rows are in pair-id order; trainers shuffle them.",
    ];

    private static IReadOnlyList<string> Distinct(IEnumerable<string?> values) =>
        [.. values.OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
}

/// <summary>Where the pairs of a training set came from.</summary>
/// <param name="Generators">Generator models (as the server named them) of the judged pairs.</param>
/// <param name="Methods">Judged pairs per method (modified instruction, worse response, labeled sources).</param>
/// <param name="Templates">Template versions that made the pairs (response generation, pair synthesis or rewrite).</param>
/// <param name="HeldOutShare">Seeded share of pairs held out of training (for checkpoint selection).</param>
/// <param name="HeldOutPairs">Pairs held out.</param>
public sealed record ManifestPairs(IReadOnlyList<string> Generators, IReadOnlyDictionary<string, int> Methods, IReadOnlyList<ManifestTemplate> Templates,
    double HeldOutShare, int HeldOutPairs);

/// <summary>The judge of the iteration.</summary>
/// <param name="Model">Model configured for the iteration (M_{i−1}).</param>
/// <param name="Endpoint">Its endpoint, if named.</param>
/// <param name="SampleModels">Model identities recorded on the samples (name plus digest or served id).</param>
/// <param name="SampleEndpoints">Endpoints that served the samples.</param>
public sealed record ManifestJudge(string Model, string? Endpoint, IReadOnlyList<string> SampleModels, IReadOnlyList<string> SampleEndpoints);

/// <summary>A judge template version.</summary>
/// <param name="Id">Template row id.</param>
/// <param name="Key">Template family.</param>
/// <param name="Version">Version.</param>
/// <param name="ContentHash">SHA-256 of its text.</param>
public sealed record ManifestTemplate(long Id, string Key, int Version, string ContentHash);

/// <summary>Seeds of the training set; each derived one is <c>Seeds.Derive(iteration, stream)</c>.</summary>
/// <param name="Experiment">The experiment's master seed.</param>
/// <param name="Iteration">The iteration's seed.</param>
/// <param name="Balance">Seed of the label balancing.</param>
/// <param name="DpoRejected">Seed of the DPO rejected choice.</param>
public sealed record ManifestSeeds(long Experiment, long Iteration, long Balance, long DpoRejected);

/// <summary>How the judgments were sampled (distinct values recorded on the samples).</summary>
/// <param name="SamplesPerPair">N.</param>
/// <param name="EarlyStop">Sampling stopped at the first correct judgment.</param>
/// <param name="Temperatures">Temperatures on the samples.</param>
/// <param name="TopPs">top_p values on the samples.</param>
/// <param name="MaxTokens">max_tokens values on the samples.</param>
public sealed record ManifestSampling(int SamplesPerPair, bool EarlyStop, IReadOnlyList<double> Temperatures, IReadOnlyList<double> TopPs, IReadOnlyList<int> MaxTokens);

/// <summary>The training max length.</summary>
/// <param name="MaxLengthTokens">Rows estimated longer are flagged.</param>
/// <param name="ExcludeOverMaxLength">They were left out instead.</param>
/// <param name="Estimate">How tokens are estimated.</param>
public sealed record ManifestLength(int MaxLengthTokens, bool ExcludeOverMaxLength, string Estimate);

/// <summary>Counts of the DPO set.</summary>
/// <param name="Candidates">Usable kept pairs with an incorrect sample.</param>
/// <param name="PairsWithoutIncorrectSample">Usable kept pairs with no sample of the wrong verdict: no DPO row.</param>
/// <param name="ExcludedOverMaxLength">Left out for length (only with the exclusion option).</param>
/// <param name="GoldABeforeBalancing">Gold A rows that went into balancing.</param>
/// <param name="GoldBBeforeBalancing">Gold B rows that went into balancing.</param>
/// <param name="GoldA">Gold A rows after balancing.</param>
/// <param name="GoldB">Gold B rows after balancing.</param>
/// <param name="Rows">Rows of the set.</param>
/// <param name="RemovedByBalancing">Rows truncated away.</param>
/// <param name="OverMaxLengthRows">Rows flagged as too long.</param>
public sealed record ManifestDpoCounts(int Candidates, int PairsWithoutIncorrectSample, int ExcludedOverMaxLength, int GoldABeforeBalancing,
    int GoldBBeforeBalancing, int GoldA, int GoldB, int Rows, int RemovedByBalancing, int OverMaxLengthRows);
