using System.IO.Hashing;
using System.Text;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;

namespace SelfTaught.Core.Evaluation;

/// <summary>
/// The seeded choices of an evaluation, as pure functions of the run's seed and the example's key, so the same data and
/// seed judge the same orders with the same request seeds in any database.
/// </summary>
public static class EvaluationPlan
{
    /// <summary>A stable 63-bit hash of an example key (XXH3 of its UTF-8 bytes).</summary>
    public static long KeyHash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return (long)(XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(key)) & long.MaxValue);
    }

    /// <summary>
    /// Where the chosen response is shown, per judgment: both orders (A then B) for <see cref="PositionMode.Both"/>,
    /// A or B for the fixed modes, and a seeded coin per example for <see cref="PositionMode.Random"/>.
    /// </summary>
    public static IReadOnlyList<Position> Orders(PositionMode mode, long seed, string key) => mode switch
    {
        PositionMode.Both => [Position.A, Position.B],
        PositionMode.ChosenFirst => [Position.A],
        PositionMode.ChosenSecond => [Position.B],
        PositionMode.Random => [Seeds.Random(seed, SeedStreams.EvaluationOrder, KeyHash(key)).Next(2) == 0 ? Position.A : Position.B],
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown position mode."),
    };

    /// <summary>The seed of the request that draws samples from <paramref name="firstSample"/> on, for one example and order.</summary>
    public static long RequestSeed(long seed, string key, Position chosenPosition, int firstSample) =>
        Seeds.Derive(seed, SeedStreams.EvaluationRequest, KeyHash(key), (long)chosenPosition, firstSample);

    /// <summary>The requests for <paramref name="samples"/> samples, at most <paramref name="choicesPerRequest"/> per request: (first sample index, count).</summary>
    public static IReadOnlyList<(int First, int Count)> Requests(int samples, int choicesPerRequest)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(choicesPerRequest, 1);
        var requests = new List<(int, int)>();
        for (var first = 0; first < samples; first += choicesPerRequest) requests.Add((first, Math.Min(choicesPerRequest, samples - first)));
        return requests;
    }

    /// <summary>The score of one judge output: 1 if it picks the chosen response, 0 if the other, and for a parse error 0.5 on RewardBench, else 0.</summary>
    public static double SampleScore(BenchmarkKind benchmark, Verdict verdict, Position chosenPosition) =>
        verdict == Verdict.Invalid ? (benchmark == BenchmarkKind.RewardBench ? 0.5 : 0) : RewardBenchScoring.ExampleScore(verdict, chosenPosition);
}
