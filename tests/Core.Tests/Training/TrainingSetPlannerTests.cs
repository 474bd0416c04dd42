using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;
using SelfTaught.Core.Training;

namespace SelfTaught.Core.Tests.Training;

public class TrainingSetPlannerTests
{
    private const long IterationSeed = 424_242;

    /// <summary>A kept annotation of pair <paramref name="pair"/>: sample 0 is the kept correct one; <paramref name="others"/> follow.</summary>
    internal static AnnotationInfo Kept(long pair, Position gold, int promptLength = 400, int keptLength = 200, bool heldOut = false,
        params Verdict?[] others)
    {
        var correct = gold == Position.A ? Verdict.A : Verdict.B;
        var samples = new List<SampleInfo> { new(pair * 100, 0, correct, true, keptLength, "judge@sha", "sim") };
        for (var i = 0; i < others.Length; i++)
        {
            var verdict = others[i];
            samples.Add(new SampleInfo(pair * 100 + i + 1, i + 1, verdict, verdict is null ? null : verdict == correct, verdict is null ? null : 100 + i,
                "judge@sha", "sim"));
        }
        return new AnnotationInfo(pair * 10, pair, heldOut, AnnotationStatus.Kept, gold, promptLength, 1, 0, true, samples);
    }

    internal static AnnotationInfo WithStatus(long pair, AnnotationStatus status, bool heldOut = false, params Verdict?[] verdicts) =>
        new(pair * 10, pair, heldOut, status, Position.A, 300, 1, null, true,
            [.. verdicts.Select((v, i) => new SampleInfo(pair * 100 + i, i, v, v is null ? null : v == Verdict.A, v is null ? null : 50, "judge@sha", "sim"))]);

    internal static TrainingSetInput Input(IReadOnlyList<AnnotationInfo> annotations, int maxLength = 4096, bool exclude = false, bool earlyStop = false) => new()
    {
        ExperimentId = 7, Iteration = 2, ExperimentSeed = 99, IterationSeed = IterationSeed, JudgeModel = "judge", SamplesPerPair = 4,
        EarlyStop = earlyStop, MaxLengthTokens = maxLength, ExcludeOverMaxLength = exclude, Annotations = annotations,
        Templates = new Dictionary<long, TemplateInfo> { [1] = new(1, "judge-pairwise", 1, "abc", new string('s', 100)) },
    };

    private static PlannedRow Row(long pair, Position gold) => new(pair * 10, pair, gold, 1, pair * 100, null, 10, false);

    [Fact]
    public void Balance_TruncatesTheLargerLabel_ToTheSmallersSize_AndKeepsAllOfTheSmaller()
    {
        var rows = Enumerable.Range(1, 30).Select(i => Row(i, i <= 21 ? Position.A : Position.B)).ToList();

        var balanced = TrainingSetPlanner.Balance(rows, 5);

        Assert.Equal(18, balanced.Count);
        Assert.Equal(9, balanced.Count(r => r.Gold == Position.A));
        Assert.Equal(Enumerable.Range(22, 9).Select(i => (long)i), balanced.Where(r => r.Gold == Position.B).Select(r => r.PairKey));
        Assert.Equal(balanced.OrderBy(r => r.PairKey).Select(r => r.PairKey), balanced.Select(r => r.PairKey));
    }

    [Fact]
    public void Balance_KeepsTheRowsRankedFirstByTheirDerivedSeed_WhateverTheInputOrder()
    {
        var rows = Enumerable.Range(1, 40).Select(i => Row(i * 3, i % 4 == 0 ? Position.B : Position.A)).ToList();
        // Independent computation: gold A rows ranked by SHA-256-derived (seed, pair id), first 10 kept.
        var expectedA = rows.Where(r => r.Gold == Position.A).OrderBy(r => Seeds.Derive(77, r.PairKey)).Take(10).Select(r => r.PairKey).Order().ToList();

        var forward = TrainingSetPlanner.Balance(rows, 77);
        var shuffled = TrainingSetPlanner.Balance([.. rows.OrderBy(r => -r.PairKey)], 77);

        Assert.Equal(expectedA, forward.Where(r => r.Gold == Position.A).Select(r => r.PairKey));
        Assert.Equal(forward, shuffled);
        Assert.NotEqual(forward, TrainingSetPlanner.Balance(rows, 78));
    }

    [Fact]
    public void Balance_OfOneLabelOnly_LeavesNothing_AndOfEqualLabels_KeepsAll()
    {
        Assert.Empty(TrainingSetPlanner.Balance([Row(1, Position.A), Row(2, Position.A)], 1));
        Assert.Equal(4, TrainingSetPlanner.Balance([Row(1, Position.A), Row(2, Position.B), Row(3, Position.B), Row(4, Position.A)], 1).Count);
        Assert.Empty(TrainingSetPlanner.Balance([], 1));
    }

    [Fact]
    public void Plan_CountsEveryStatus_AndNeverUsesHeldOutPairs()
    {
        var annotations = new List<AnnotationInfo>
        {
            Kept(1, Position.A, others: [Verdict.B, Verdict.Invalid]),
            Kept(2, Position.B, others: [null]),
            Kept(3, Position.A, heldOut: true, others: [Verdict.B]),
            Kept(4, Position.B, heldOut: true),
            WithStatus(5, AnnotationStatus.Dropped, false, Verdict.B, Verdict.Invalid, Verdict.B),
            WithStatus(6, AnnotationStatus.Dropped, true, Verdict.B),
            WithStatus(7, AnnotationStatus.Failed, false, null, null),
            WithStatus(8, AnnotationStatus.Pending),
        };

        var plan = TrainingSetPlanner.Plan(Input(annotations));

        var c = plan.Counts;
        Assert.Equal((8, 3, 2, 1, 1, 1, 0), (c.Annotations, c.HeldOutExcluded, c.Kept, c.DroppedNoCorrectSample, c.Failed, c.Pending, c.KeptWithoutUsableSample));
        Assert.Equal(c.Annotations, c.HeldOutExcluded + c.Kept + c.DroppedNoCorrectSample + c.Failed + c.Pending);
        // Samples of pairs not held out: 3 + 2 + 3 + 2 = 10; invalid: pair 1 and pair 5; failed calls: pair 2 and two of pair 7.
        Assert.Equal((10, 2, 3, 5), (c.Samples, c.ParseFailures, c.FailedCalls, c.FullN));
        Assert.Equal([1L, 2L], plan.Sft.Select(r => r.PairKey));
        Assert.DoesNotContain(plan.Sft.Concat(plan.Dpo), r => r.PairKey is 3 or 4 or 6);
    }

    [Fact]
    public void Plan_LeavesOutKeptAnnotations_WhoseKeptSampleIsMissingWithoutTextOrNotCorrect()
    {
        var good = Kept(1, Position.A);
        var missingIndex = Kept(2, Position.B) with { KeptSampleIndex = 9 };
        var noIndex = Kept(3, Position.B) with { KeptSampleIndex = null };
        var noText = Kept(4, Position.B);
        noText = noText with { Samples = [noText.Samples[0] with { CompletionLength = null }] };
        var wrong = Kept(5, Position.B);
        wrong = wrong with { Samples = [wrong.Samples[0] with { Verdict = Verdict.A, Correct = false }] };
        var good2 = Kept(6, Position.B);

        var plan = TrainingSetPlanner.Plan(Input([good, missingIndex, noIndex, noText, wrong, good2]));

        Assert.Equal(6, plan.Counts.Kept);
        Assert.Equal(4, plan.Counts.KeptWithoutUsableSample);
        Assert.Equal([1L, 6L], plan.Sft.Select(r => r.PairKey));
        Assert.Equal([100L, 600L], plan.Sft.Select(r => r.ChosenSampleId));
    }

    [Fact]
    public void ChooseRejected_TakesOnlyWrongParsedVerdicts_NeverInvalidOrFailedOnes()
    {
        var onlyInvalid = Kept(1, Position.A, others: [Verdict.Invalid, null, Verdict.A, Verdict.Invalid]);
        var oneWrong = Kept(2, Position.A, others: [Verdict.Invalid, Verdict.B, Verdict.A]);

        Assert.Null(TrainingSetPlanner.ChooseRejected(onlyInvalid, 3));
        for (var seed = 0; seed < 20; seed++) Assert.Equal(202, TrainingSetPlanner.ChooseRejected(oneWrong, seed)!.Id);
    }

    [Fact]
    public void ChooseRejected_DrawsAmongTheWrongSamples_BySeedAndPair_AsTheFormulaSays()
    {
        var annotation = Kept(5, Position.B, others: [Verdict.A, Verdict.B, Verdict.A, Verdict.Invalid, Verdict.A]);
        var wrong = annotation.Samples.Where(s => s.Verdict == Verdict.A).OrderBy(s => s.SampleIndex).ToList();
        var seen = new HashSet<long>();

        for (var seed = 0L; seed < 60; seed++)
        {
            var chosen = TrainingSetPlanner.ChooseRejected(annotation, seed)!;
            Assert.Equal(wrong[(int)(Seeds.Derive(seed, 5) % 3)].Id, chosen.Id);
            Assert.Equal(chosen, TrainingSetPlanner.ChooseRejected(annotation with { Samples = [.. annotation.Samples.Reverse()] }, seed));
            seen.Add(chosen.Id);
        }
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public void Plan_BuildsDpoOnlyFromPairsWithAnIncorrectSample_CountsTheRest_AndBalancesDpoOnItsOwn()
    {
        var annotations = new List<AnnotationInfo>();
        for (var pair = 1; pair <= 12; pair++)
        {
            var gold = pair <= 6 ? Position.A : Position.B;
            // Gold A pairs 1-5 and gold B pair 7 have a wrong sample; the rest only correct or invalid ones.
            var hasWrong = pair <= 5 || pair == 7;
            var wrongVerdict = gold == Position.A ? Verdict.B : Verdict.A;
            annotations.Add(Kept(pair, gold, others: hasWrong ? [wrongVerdict] : [Verdict.Invalid]));
        }

        var plan = TrainingSetPlanner.Plan(Input(annotations));

        Assert.Equal(12, plan.Sft.Count);
        Assert.Equal(6, plan.DpoPairsWithoutIncorrectSample);
        Assert.Equal((6, 5, 1, 1, 1, 2, 4), (plan.DpoCounts.Candidates, plan.DpoCounts.GoldABeforeBalancing, plan.DpoCounts.GoldBBeforeBalancing,
            plan.DpoCounts.GoldA, plan.DpoCounts.GoldB, plan.DpoCounts.Rows, plan.DpoCounts.RemovedByBalancing));
        var dpoB = Assert.Single(plan.Dpo, r => r.Gold == Position.B);
        Assert.Equal((7L, 700L, 701L), (dpoB.PairKey, dpoB.ChosenSampleId, dpoB.RejectedSampleId));
        Assert.All(plan.Dpo, r => Assert.NotNull(r.RejectedSampleId));
        Assert.All(plan.Sft, r => Assert.Null(r.RejectedSampleId));
    }

    [Fact]
    public void Plan_EstimatesTokensOverSystemUserAndCompletion_AndFlagsOnlyRowsAboveTheMax()
    {
        // System text 100 characters; 100 + 300 + 400 = 800 characters = 200 tokens: at the max, not over it.
        var atMax = Kept(1, Position.A, promptLength: 300, keptLength: 400);
        var over = Kept(2, Position.B, promptLength: 300, keptLength: 401);
        // DPO counts the longer of chosen (200) and rejected (101 + 0 = sample 1 has length 100).
        var dpoLonger = Kept(3, Position.A, promptLength: 0, keptLength: 10, others: [Verdict.B]);
        var dpoB = Kept(4, Position.B, promptLength: 0, keptLength: 10, others: [Verdict.A]);

        var plan = TrainingSetPlanner.Plan(Input([atMax, over, dpoLonger, dpoB], maxLength: 200));

        Assert.Equal([200, 201, 28, 28], plan.Sft.Select(r => r.TokenCount));
        Assert.Equal([false, true, false, false], plan.Sft.Select(r => r.OverMaxLength));
        Assert.Equal([50, 50], plan.Dpo.Select(r => r.TokenCount));
        Assert.Equal(1, plan.SftCounts.OverMaxLengthRows);
        Assert.Equal(0, plan.SftCounts.ExcludedOverMaxLength);
    }

    [Fact]
    public void Plan_WithTheExclusionOption_LeavesLongRowsOutBeforeBalancing()
    {
        var annotations = new[]
        {
            Kept(1, Position.A, keptLength: 10_000), Kept(2, Position.A), Kept(3, Position.A),
            Kept(4, Position.B, keptLength: 10_000), Kept(5, Position.B),
        };

        var flagged = TrainingSetPlanner.Plan(Input(annotations, maxLength: 1000));
        var excluded = TrainingSetPlanner.Plan(Input(annotations, maxLength: 1000, exclude: true));

        Assert.Equal(4, flagged.Sft.Count);
        Assert.Equal((2, 1), (excluded.SftCounts.ExcludedOverMaxLength, excluded.SftCounts.GoldBBeforeBalancing));
        Assert.Equal(2, excluded.Sft.Count);
        Assert.DoesNotContain(excluded.Sft, r => r.OverMaxLength);
        Assert.Equal(0, excluded.SftCounts.OverMaxLengthRows);
    }

    [Fact]
    public void Plan_IsTheSameWhateverOrderTheAnnotationsComeIn_AndRecordsItsSeeds()
    {
        var annotations = Enumerable.Range(1, 50).Select(i => Kept(i, i % 3 == 0 ? Position.B : Position.A, others: [i % 2 == 0 ? Verdict.Invalid : (i % 3 == 0 ? Verdict.A : Verdict.B)])).ToList();

        var plan = TrainingSetPlanner.Plan(Input(annotations));
        var reversed = TrainingSetPlanner.Plan(Input([.. annotations.AsEnumerable().Reverse()]));

        Assert.Equal(plan.Sft, reversed.Sft);
        Assert.Equal(plan.Dpo, reversed.Dpo);
        Assert.Equal(Seeds.Derive(IterationSeed, SeedStreams.Balance), plan.BalanceSeed);
        Assert.Equal(Seeds.Derive(IterationSeed, SeedStreams.DpoRejected), plan.DpoRejectedSeed);
        Assert.Equal(plan.SftCounts.GoldA, plan.SftCounts.GoldB);
        Assert.Equal(16, plan.SftCounts.GoldB);
    }
}
