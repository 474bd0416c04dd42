using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;

namespace SelfTaught.Core.Training;

/// <summary>One judgment sample as the planner sees it: its metadata and the length of its text, not the text.</summary>
/// <param name="Id">The sample's id.</param>
/// <param name="SampleIndex">Its index among the pair's N samples.</param>
/// <param name="Verdict">The parsed verdict; null when the call failed.</param>
/// <param name="Correct">Whether the verdict equals the gold label; null when the call failed.</param>
/// <param name="CompletionLength">
/// Characters of the raw completion; null when there is none. The stage reads it as the database counts characters
/// (SQLite's <c>length()</c>: code points), so a character outside the BMP counts once, not twice as in .NET.
/// </param>
/// <param name="Model">Model identity that wrote it.</param>
/// <param name="Endpoint">Endpoint that served it.</param>
/// <param name="Temperature">Sampling temperature.</param>
/// <param name="TopP">Nucleus sampling.</param>
/// <param name="MaxTokens">Token limit of the completion.</param>
public sealed record SampleInfo(
    long Id, int SampleIndex, Verdict? Verdict, bool? Correct, int? CompletionLength,
    string? Model = null, string? Endpoint = null, double Temperature = 0.7, double TopP = 0.9, int MaxTokens = 4096);

/// <summary>One judged pair of the iteration as the planner sees it.</summary>
/// <param name="Id">The annotation's id.</param>
/// <param name="PairKey">The pair's stable key (<see cref="SelfTaught.Core.Experiments.PairKeys"/>); it keys every seeded choice about the pair and the row order.</param>
/// <param name="HeldOut">The pair is held out for checkpoint selection: it never enters a training set.</param>
/// <param name="Status">Kept, Dropped (no correct sample), Failed or Pending.</param>
/// <param name="Gold">The synthetic label: the position of y_w.</param>
/// <param name="PromptLength">Characters of the rendered user judge prompt (counted like <see cref="SampleInfo.CompletionLength"/>).</param>
/// <param name="TemplateId">Judge template whose system text precedes the user prompt.</param>
/// <param name="KeptSampleIndex">Sample index of the kept correct judgment.</param>
/// <param name="FullN">All N samples were drawn.</param>
/// <param name="Samples">The samples drawn.</param>
public sealed record AnnotationInfo(
    long Id, long PairKey, bool HeldOut, AnnotationStatus Status, Position Gold, int PromptLength, long? TemplateId,
    int? KeptSampleIndex, bool FullN, IReadOnlyList<SampleInfo> Samples);

/// <summary>A judge template version used by the iteration.</summary>
/// <param name="Id">Template row id.</param>
/// <param name="Key">Template family, e.g. <c>judge-pairwise</c>.</param>
/// <param name="Version">Version within the family.</param>
/// <param name="ContentHash">SHA-256 of its text.</param>
/// <param name="SystemText">The system message of every row built with it; null: rows have no system message.</param>
public sealed record TemplateInfo(long Id, string Key, int Version, string ContentHash, string? SystemText);

/// <summary>Everything a training set of one iteration is planned from.</summary>
public sealed record TrainingSetInput
{
    /// <summary>The experiment.</summary>
    public required long ExperimentId { get; init; }

    /// <summary>1-based iteration number.</summary>
    public required int Iteration { get; init; }

    /// <summary>The experiment's master seed (recorded in the manifest).</summary>
    public long ExperimentSeed { get; init; }

    /// <summary>The iteration's seed; the balance and DPO seeds derive from it.</summary>
    public required long IterationSeed { get; init; }

    /// <summary>The judge model configured for the iteration (M_{i−1}).</summary>
    public required string JudgeModel { get; init; }

    /// <summary>Its endpoint, if one was named.</summary>
    public string? JudgeEndpoint { get; init; }

    /// <summary>N, samples per pair.</summary>
    public int SamplesPerPair { get; init; } = 15;

    /// <summary>The iteration was judged with early stop.</summary>
    public bool EarlyStop { get; init; }

    /// <summary>Rows estimated longer than this are flagged. Default 4,096.</summary>
    public int MaxLengthTokens { get; init; } = 4_096;

    /// <summary>Leave over-long rows out (before balancing) instead of only flagging them. Default false.</summary>
    public bool ExcludeOverMaxLength { get; init; }

    /// <summary>The iteration's annotations, in any order.</summary>
    public required IReadOnlyList<AnnotationInfo> Annotations { get; init; }

    /// <summary>Judge templates by id.</summary>
    public IReadOnlyDictionary<long, TemplateInfo> Templates { get; init; } = new Dictionary<long, TemplateInfo>();
}

/// <summary>One row of a planned training set.</summary>
/// <param name="AnnotationId">The annotation it comes from.</param>
/// <param name="PairKey">The pair's stable key.</param>
/// <param name="Gold">Position of y_w, which the chosen judgment picks.</param>
/// <param name="TemplateId">Judge template (system text).</param>
/// <param name="ChosenSampleId">The kept correct judgment.</param>
/// <param name="RejectedSampleId">An incorrect judgment (DPO rows only).</param>
/// <param name="TokenCount">Estimated tokens: system + user prompt + the completion (the longer of chosen and rejected for DPO).</param>
/// <param name="OverMaxLength">The estimate exceeds the training max length.</param>
public sealed record PlannedRow(long AnnotationId, long PairKey, Position Gold, long? TemplateId, long ChosenSampleId, long? RejectedSampleId,
    int TokenCount, bool OverMaxLength);

/// <summary>Counts over the iteration's annotations. <c>Annotations = HeldOutExcluded + Kept + DroppedNoCorrectSample + Failed + Pending</c>.</summary>
/// <param name="Annotations">Annotations of the iteration.</param>
/// <param name="HeldOutExcluded">Annotations of held-out pairs, whatever their status: never in a training set.</param>
/// <param name="Kept">Not held out, with a kept correct judgment.</param>
/// <param name="DroppedNoCorrectSample">Not held out, dropped because no sample was correct.</param>
/// <param name="Failed">Not held out, whose judging failed.</param>
/// <param name="Pending">Not held out, not judged yet.</param>
/// <param name="KeptWithoutUsableSample">Kept, but the kept sample is missing, has no text or is not correct: left out.</param>
/// <param name="FullN">Not held out and judged with all N samples.</param>
/// <param name="Samples">Samples of the annotations that are not held out.</param>
/// <param name="ParseFailures">Of those, samples whose verdict could not be parsed (invalid).</param>
/// <param name="FailedCalls">Of those, samples whose call failed (no verdict).</param>
public sealed record AnnotationCounts(int Annotations, int HeldOutExcluded, int Kept, int DroppedNoCorrectSample, int Failed, int Pending,
    int KeptWithoutUsableSample, int FullN, int Samples, int ParseFailures, int FailedCalls);

/// <summary>Counts of one planned set (SFT or DPO).</summary>
/// <param name="Candidates">Rows before the length exclusion and balancing.</param>
/// <param name="ExcludedOverMaxLength">Left out for being too long (only with the exclusion option).</param>
/// <param name="GoldABeforeBalancing">Rows with gold A that went into balancing.</param>
/// <param name="GoldBBeforeBalancing">Rows with gold B that went into balancing.</param>
/// <param name="GoldA">Rows with gold A after balancing.</param>
/// <param name="GoldB">Rows with gold B after balancing.</param>
/// <param name="Rows">Rows of the set.</param>
/// <param name="RemovedByBalancing">Rows truncated away by balancing.</param>
/// <param name="OverMaxLengthRows">Rows of the set flagged as longer than the max length.</param>
public sealed record SetCounts(int Candidates, int ExcludedOverMaxLength, int GoldABeforeBalancing, int GoldBBeforeBalancing, int GoldA, int GoldB,
    int Rows, int RemovedByBalancing, int OverMaxLengthRows);

/// <summary>The planned training set of one iteration: which judgments go where, and the counts the manifest reports.</summary>
/// <param name="Input">What it was planned from.</param>
/// <param name="BalanceSeed">Seed of the balancing: Derive(iteration seed, <see cref="SeedStreams.Balance"/>).</param>
/// <param name="DpoRejectedSeed">Seed of the DPO rejected choice: Derive(iteration seed, <see cref="SeedStreams.DpoRejected"/>).</param>
/// <param name="Sft">SFT rows (also the OpenAI rows), in pair-id order.</param>
/// <param name="Dpo">DPO rows, in pair-id order.</param>
/// <param name="Counts">Counts over the annotations.</param>
/// <param name="SftCounts">Counts of the SFT set.</param>
/// <param name="DpoCounts">Counts of the DPO set.</param>
/// <param name="DpoPairsWithoutIncorrectSample">Usable kept pairs with no sample of the wrong parsed verdict: no DPO row.</param>
public sealed record TrainingPlan(
    TrainingSetInput Input, long BalanceSeed, long DpoRejectedSeed, IReadOnlyList<PlannedRow> Sft, IReadOnlyList<PlannedRow> Dpo,
    AnnotationCounts Counts, SetCounts SftCounts, SetCounts DpoCounts, int DpoPairsWithoutIncorrectSample);

/// <summary>
/// Plans an iteration's training set (DESIGN §1 step 4) without touching a database or a file: which kept judgments
/// form the SFT set, which (correct, incorrect) judgment pairs form the DPO set, balanced by truncation, with every
/// count the manifest reports. Deterministic: the same input gives the same plan, whatever order the annotations and
/// samples come in.
/// </summary>
/// <remarks>
/// <para>Eligible: annotations of pairs not held out, status Kept, whose kept sample exists, has text, and is correct.</para>
/// <para>Balancing: the larger of {gold = A, gold = B} is truncated to the smaller's size. Rows are ranked by
/// <c>Seeds.Derive(balance seed, pair key)</c> (a seeded shuffle that does not depend on row order) and the first ones
/// are kept. SFT and DPO sets are balanced separately, each over its own candidates, with the same ranking.</para>
/// <para>DPO rejected: a sample whose parsed verdict is the wrong position, drawn as
/// <c>Seeds.Derive(DPO seed, pair key) mod count</c> over such samples in sample-index order. Invalid (unparsable)
/// samples never serve as rejected: they would teach the format, not the judgment; a pair whose samples are all
/// correct or invalid has no DPO row and is counted.</para>
/// <para>Length: tokens are estimated with <see cref="CostEstimate.EstimateTokens(long)"/> over the characters of system
/// text + user prompt + completion (the longer of chosen and rejected for DPO); rows over the max length are flagged,
/// or left out before balancing with <see cref="TrainingSetInput.ExcludeOverMaxLength"/>.</para>
/// </remarks>
public static class TrainingSetPlanner
{
    /// <summary>Plans the training set of <paramref name="input"/>.</summary>
    public static TrainingPlan Plan(TrainingSetInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(input.MaxLengthTokens, 1, nameof(input));
        var balanceSeed = Seeds.Derive(input.IterationSeed, SeedStreams.Balance);
        var dpoSeed = Seeds.Derive(input.IterationSeed, SeedStreams.DpoRejected);

        var annotations = input.Annotations.OrderBy(a => a.PairKey).ThenBy(a => a.Id).ToList();
        var open = annotations.Where(a => !a.HeldOut).ToList();
        var samples = open.SelectMany(a => a.Samples).ToList();

        var sftCandidates = new List<PlannedRow>();
        var dpoCandidates = new List<PlannedRow>();
        var withoutIncorrect = 0;
        foreach (var annotation in open.Where(a => a.Status == AnnotationStatus.Kept))
        {
            if (KeptSample(annotation) is not { } kept) continue;
            var promptLength = SystemLength(input, annotation.TemplateId) + (long)annotation.PromptLength;
            var sftTokens = Tokens(promptLength + kept.CompletionLength!.Value);
            sftCandidates.Add(new PlannedRow(annotation.Id, annotation.PairKey, annotation.Gold, annotation.TemplateId, kept.Id, null,
                sftTokens, sftTokens > input.MaxLengthTokens));

            if (ChooseRejected(annotation, dpoSeed) is not { } rejected)
            {
                withoutIncorrect++;
                continue;
            }
            var dpoTokens = Tokens(promptLength + Math.Max(kept.CompletionLength.Value, rejected.CompletionLength!.Value));
            dpoCandidates.Add(new PlannedRow(annotation.Id, annotation.PairKey, annotation.Gold, annotation.TemplateId, kept.Id, rejected.Id,
                dpoTokens, dpoTokens > input.MaxLengthTokens));
        }

        var (sft, sftCounts) = Finish(sftCandidates, input.ExcludeOverMaxLength, balanceSeed);
        var (dpo, dpoCounts) = Finish(dpoCandidates, input.ExcludeOverMaxLength, balanceSeed);
        var keptCount = open.Count(a => a.Status == AnnotationStatus.Kept);
        var counts = new AnnotationCounts(
            Annotations: annotations.Count,
            HeldOutExcluded: annotations.Count - open.Count,
            Kept: keptCount,
            DroppedNoCorrectSample: open.Count(a => a.Status == AnnotationStatus.Dropped),
            Failed: open.Count(a => a.Status == AnnotationStatus.Failed),
            Pending: open.Count(a => a.Status == AnnotationStatus.Pending),
            KeptWithoutUsableSample: keptCount - sftCandidates.Count,
            FullN: open.Count(a => a.FullN),
            Samples: samples.Count,
            ParseFailures: samples.Count(s => s.Verdict == Verdict.Invalid),
            FailedCalls: samples.Count(s => s.Verdict is null));
        return new TrainingPlan(input, balanceSeed, dpoSeed, sft, dpo, counts, sftCounts, dpoCounts, withoutIncorrect);
    }

    /// <summary>
    /// The kept judgment of <paramref name="annotation"/> if it can be trained on: the sample at the kept index exists,
    /// has text, and its verdict is the gold label. Null otherwise.
    /// </summary>
    public static SampleInfo? KeptSample(AnnotationInfo annotation)
    {
        ArgumentNullException.ThrowIfNull(annotation);
        if (annotation.KeptSampleIndex is not { } index) return null;
        var sample = annotation.Samples.FirstOrDefault(s => s.SampleIndex == index);
        return sample is { Correct: true, CompletionLength: not null } && sample.Verdict == ToVerdict(annotation.Gold) ? sample : null;
    }

    /// <summary>
    /// The incorrect judgment a DPO row rejects: among samples with text whose parsed verdict is the wrong position
    /// (never invalid ones), in sample-index order, the one at <c>Seeds.Derive(<paramref name="dpoSeed"/>, pair key) mod count</c>;
    /// null when there is none.
    /// </summary>
    public static SampleInfo? ChooseRejected(AnnotationInfo annotation, long dpoSeed)
    {
        ArgumentNullException.ThrowIfNull(annotation);
        var wrong = ToVerdict(annotation.Gold == Position.A ? Position.B : Position.A);
        var candidates = annotation.Samples.Where(s => s.Verdict == wrong && s.Correct != true && s.CompletionLength is not null)
            .OrderBy(s => s.SampleIndex).ThenBy(s => s.Id).ToList();
        if (candidates.Count == 0) return null;
        return candidates[(int)(Seeds.Derive(dpoSeed, annotation.PairKey) % candidates.Count)];
    }

    /// <summary>
    /// Balances <paramref name="rows"/> by truncation: the larger of {gold = A, gold = B} keeps only as many rows as the
    /// smaller has, those ranked first by <c>Seeds.Derive(<paramref name="balanceSeed"/>, pair key)</c>. Returns the
    /// kept rows in pair-id order.
    /// </summary>
    public static IReadOnlyList<PlannedRow> Balance(IReadOnlyList<PlannedRow> rows, long balanceSeed)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var a = rows.Where(r => r.Gold == Position.A).ToList();
        var b = rows.Where(r => r.Gold == Position.B).ToList();
        var size = Math.Min(a.Count, b.Count);
        IEnumerable<PlannedRow> Take(List<PlannedRow> group) => group.Count == size
            ? group
            : group.OrderBy(r => Seeds.Derive(balanceSeed, r.PairKey)).ThenBy(r => r.PairKey).ThenBy(r => r.AnnotationId).Take(size);
        return [.. Take(a).Concat(Take(b)).OrderBy(r => r.PairKey).ThenBy(r => r.AnnotationId)];
    }

    /// <summary>Estimated tokens of a row of <paramref name="characters"/> characters (never more than <see cref="int.MaxValue"/>).</summary>
    public static int Tokens(long characters) => (int)Math.Min(int.MaxValue, CostEstimate.EstimateTokens(characters));

    private static (IReadOnlyList<PlannedRow> Rows, SetCounts Counts) Finish(List<PlannedRow> candidates, bool excludeOverMaxLength, long balanceSeed)
    {
        var eligible = excludeOverMaxLength ? candidates.Where(r => !r.OverMaxLength).ToList() : candidates;
        var balanced = Balance(eligible, balanceSeed);
        var goldA = eligible.Count(r => r.Gold == Position.A);
        return (balanced, new SetCounts(
            Candidates: candidates.Count,
            ExcludedOverMaxLength: candidates.Count - eligible.Count,
            GoldABeforeBalancing: goldA,
            GoldBBeforeBalancing: eligible.Count - goldA,
            GoldA: balanced.Count(r => r.Gold == Position.A),
            GoldB: balanced.Count(r => r.Gold == Position.B),
            Rows: balanced.Count,
            RemovedByBalancing: eligible.Count - balanced.Count,
            OverMaxLengthRows: balanced.Count(r => r.OverMaxLength)));
    }

    private static long SystemLength(TrainingSetInput input, long? templateId) =>
        templateId is { } id && input.Templates.TryGetValue(id, out var template) ? template.SystemText?.Length ?? 0 : 0;

    private static Verdict ToVerdict(Position position) => position == Position.A ? Verdict.A : Verdict.B;
}
