using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Judging;

/// <summary>
/// What an iteration's judgment annotation produced (DESIGN §1: everything reviewers asked for must be visible).
/// Agreement comes from the pairs judged with all N samples: under early stop that is the seeded full-N subsample, so
/// those numbers are estimates (<see cref="AgreementEstimated"/>).
/// </summary>
/// <param name="PairsJudged">Pairs with an annotation.</param>
/// <param name="PairsNotJudged">Ready, non-held-out pairs still without an annotation (their judging failed, or has not run yet).</param>
/// <param name="PairsKept">Pairs with a kept (correct) judgment.</param>
/// <param name="PairsDropped">Pairs without any correct judgment among their samples.</param>
/// <param name="PairsWithCorrectShare">Share of judged pairs with at least one correct sample.</param>
/// <param name="FullNPairs">Pairs judged with all N samples (every pair without early stop).</param>
/// <param name="SamplesPerPair">N.</param>
/// <param name="AgreementMean">Share of the full-N pairs' samples whose verdict agrees with the synthetic label; null without full-N pairs.</param>
/// <param name="AgreementDistribution">For k = 0..N, how many full-N pairs had k correct samples.</param>
/// <param name="AgreementEstimated">True under early stop when some judged pairs stopped early: agreement is then estimated from the full-N subsample.</param>
/// <param name="Samples">Samples stored.</param>
/// <param name="InvalidSamples">Samples whose verdict could not be parsed strictly.</param>
/// <param name="ParseFailureRate">Invalid samples ÷ samples.</param>
/// <param name="Calls">Model requests made (an <c>n</c>-batched request counts once).</param>
/// <param name="PromptTokens">Prompt tokens reported by the server.</param>
/// <param name="CompletionTokens">Completion tokens reported by the server.</param>
/// <param name="EarlyStop">Whether the run used early stop.</param>
public sealed record JudgingStatistics(
    int PairsJudged, int PairsNotJudged, int PairsKept, int PairsDropped, double? PairsWithCorrectShare,
    int FullNPairs, int SamplesPerPair, double? AgreementMean, IReadOnlyList<int> AgreementDistribution, bool AgreementEstimated,
    int Samples, int InvalidSamples, double? ParseFailureRate, int Calls, long PromptTokens, long CompletionTokens, bool EarlyStop);

/// <summary>Computes and stores an iteration's statistics in <see cref="Iteration.StatisticsJson"/>.</summary>
public static class IterationStatistics
{
    /// <summary>Property of <see cref="Iteration.StatisticsJson"/> that holds <see cref="JudgingStatistics"/>.</summary>
    public const string JudgingKey = "judging";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Computes the judging statistics of <paramref name="iterationId"/> from its stored annotations and samples.</summary>
    public static async Task<JudgingStatistics> ComputeJudgingAsync(SelfTaughtDbContext db, long iterationId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        var iteration = await db.Iterations.AsNoTracking().SingleAsync(i => i.Id == iterationId, cancellationToken);
        var annotations = await db.Annotations.AsNoTracking().Where(a => a.IterationId == iterationId)
            .Select(a => new AnnotationCounts(a.Status, a.FullN, a.SamplesDrawn, a.CorrectCount)).ToListAsync(cancellationToken);
        var samples = db.JudgmentSamples.AsNoTracking().Where(s => s.IterationId == iterationId);
        var sampleCount = await samples.CountAsync(cancellationToken);
        var invalid = await samples.CountAsync(s => s.Verdict == Verdict.Invalid, cancellationToken);
        var calls = await samples.CountAsync(s => s.ChoiceIndex == 0, cancellationToken);
        var promptTokens = await samples.SumAsync(s => (long?)s.PromptTokens, cancellationToken) ?? 0;
        var completionTokens = await samples.SumAsync(s => (long?)s.CompletionTokens, cancellationToken) ?? 0;
        var notJudged = await Stages.JudgeStage.EligiblePairs(db, iteration.ExperimentId)
            .CountAsync(p => !db.Annotations.Any(a => a.IterationId == iterationId && a.PairId == p.Id), cancellationToken);
        return Compute(annotations, iteration.SamplesPerPair, iteration.EarlyStop, sampleCount, invalid, calls, promptTokens, completionTokens, notJudged);
    }

    /// <summary>What one annotation contributes to the statistics.</summary>
    /// <param name="Status">Kept, Dropped or Failed.</param>
    /// <param name="FullN">Judged with all N samples.</param>
    /// <param name="SamplesDrawn">Samples drawn.</param>
    /// <param name="CorrectCount">Samples agreeing with the synthetic label.</param>
    public sealed record AnnotationCounts(AnnotationStatus Status, bool FullN, int SamplesDrawn, int CorrectCount);

    /// <summary>The statistics of the given annotations and sample totals (pure).</summary>
    public static JudgingStatistics Compute(IReadOnlyList<AnnotationCounts> annotations, int samplesPerPair, bool earlyStop,
        int samples, int invalidSamples, int calls, long promptTokens, long completionTokens, int notJudged = 0)
    {
        ArgumentNullException.ThrowIfNull(annotations);
        var kept = annotations.Count(a => a.Status == AnnotationStatus.Kept);
        var dropped = annotations.Count(a => a.Status == AnnotationStatus.Dropped);
        var full = annotations.Where(a => a.FullN).ToList();
        var distribution = new int[samplesPerPair + 1];
        foreach (var a in full) distribution[Math.Clamp(a.CorrectCount, 0, samplesPerPair)]++;
        var fullDrawn = full.Sum(a => (long)a.SamplesDrawn);
        return new JudgingStatistics(
            annotations.Count, notJudged, kept, dropped, annotations.Count == 0 ? null : (double)kept / annotations.Count,
            full.Count, samplesPerPair, fullDrawn == 0 ? null : (double)full.Sum(a => (long)a.CorrectCount) / fullDrawn, distribution, earlyStop && full.Count < annotations.Count,
            samples, invalidSamples, samples == 0 ? null : (double)invalidSamples / samples, calls, promptTokens, completionTokens, earlyStop);
    }

    /// <summary>Reads the judging statistics stored in an iteration, if any.</summary>
    public static JudgingStatistics? ReadJudging(string? statisticsJson) =>
        Read(statisticsJson)?[JudgingKey] is { } node ? node.Deserialize<JudgingStatistics>(Json) : null;

    /// <summary>
    /// Computes the judging statistics, stores them under <see cref="JudgingKey"/> (other keys are kept) and marks the
    /// iteration Judged when every ready, non-held-out pair has a judgment (else it stays Judging: failed pairs can be
    /// retried, and no training set is built from a partial judgment).
    /// </summary>
    public static async Task StoreJudgingAsync(SelfTaughtDbContext db, long iterationId, long stageRunId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        var statistics = await ComputeJudgingAsync(db, iterationId, cancellationToken);
        var iteration = await db.Iterations.SingleAsync(i => i.Id == iterationId, cancellationToken);
        var node = JsonSerializer.SerializeToNode(statistics, Json)!.AsObject();
        node["stageRunId"] = stageRunId;
        iteration.StatisticsJson = Merge(iteration.StatisticsJson, JudgingKey, node);
        if (iteration.Status is IterationStatus.Created or IterationStatus.Judging)
            iteration.Status = statistics.PairsNotJudged == 0 ? IterationStatus.Judged : IterationStatus.Judging;
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// <paramref name="existing"/> statistics with <paramref name="key"/> set to <paramref name="value"/>, every other
    /// property kept (each stage stores its own key). Text that is not a JSON object is kept under <c>previous</c> rather than lost.
    /// </summary>
    public static string Merge(string? existing, string key, JsonNode value)
    {
        var root = string.IsNullOrWhiteSpace(existing) ? [] : Read(existing) ?? new JsonObject { ["previous"] = existing };
        root[key] = value;
        return root.ToJsonString();
    }

    private static JsonObject? Read(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        try
        {
            return JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
