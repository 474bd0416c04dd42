using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Prompts;

namespace SelfTaught.Web.Tests.Infrastructure;

/// <summary>An experiment whose iteration 1 was judged, stored as the judge stage stores it.</summary>
public static class TrainingData
{
    /// <summary>
    /// Pairs 0..<paramref name="pairs"/>−1: gold A for two of every three, every fifth held out; each has three samples.
    /// Pairs p with p % 6 == 5 get no correct sample (Dropped); the others keep sample 0 (correct), and sample 1 is the
    /// wrong verdict on even pairs and invalid on odd ones; sample 2 is correct.
    /// </summary>
    public static async Task<(long ExperimentId, long IterationId)> SeedJudgedIterationAsync(SelfTaughtDbContext db, int pairs, CancellationToken cancellationToken,
        IterationStatus status = IterationStatus.Judged)
    {
        ArgumentNullException.ThrowIfNull(db);
        var now = DateTime.UtcNow;
        var template = await PromptTemplateStore.EnsureBuiltInAsync(db, PromptLibrary.JudgePairwise, now, cancellationToken);
        var pool = new Dataset { Name = "pool " + Guid.NewGuid().ToString("N"), Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, CreatedAt = now };
        var experiment = new Experiment
        {
            Name = "training " + Guid.NewGuid().ToString("N"), InstructionDataset = pool, SeedModel = "judge", GeneratorModel = "judge", JudgeModel = "judge",
            Seed = 17, CreatedAt = now,
        };
        var iteration = new Iteration
        {
            Experiment = experiment, Number = 1, JudgeModel = "judge", JudgeTemplateId = template.Id, Seed = 1_234, SamplesPerPair = 3,
            Status = status, StatisticsJson = """{"judge":{"agreement":0.7}}""", CreatedAt = now,
        };
        db.Iterations.Add(iteration);
        var pairRows = Enumerable.Range(0, pairs).Select(p => new Pair
        {
            Experiment = experiment, Prompt = $"Question {p}", Chosen = "good", Rejected = "bad", Status = PairStatus.Ready, HeldOut = p % 5 == 4, CreatedAt = now,
        }).ToList();
        db.Pairs.AddRange(pairRows);
        await db.SaveChangesAsync(cancellationToken);

        for (var p = 0; p < pairs; p++)
        {
            var gold = p % 3 == 2 ? Position.B : Position.A;
            var right = gold == Position.A ? Verdict.A : Verdict.B;
            var wrong = gold == Position.A ? Verdict.B : Verdict.A;
            var dropped = p % 6 == 5;
            Verdict[] verdicts = dropped ? [wrong, Verdict.Invalid, wrong] : [right, p % 2 == 0 ? wrong : Verdict.Invalid, right];
            var annotation = new Annotation
            {
                IterationId = iteration.Id, PairId = pairRows[p].Id, ChosenPosition = gold, Gold = gold, TemplateId = template.Id,
                JudgePrompt = $"[[User Question]]\nQuestion {p}\n\n[The Start of Assistant A’s Answer]\n…", FullN = true, CreatedAt = now,
                Status = dropped ? AnnotationStatus.Dropped : AnnotationStatus.Kept, KeptSampleIndex = dropped ? null : 0,
                SamplesDrawn = 3, CorrectCount = verdicts.Count(v => v == right), InvalidCount = verdicts.Count(v => v == Verdict.Invalid),
            };
            for (var k = 0; k < verdicts.Length; k++)
                annotation.Samples.Add(new JudgmentSample
                {
                    IterationId = iteration.Id, PairId = pairRows[p].Id, SampleIndex = k, TemplateId = template.Id, Verdict = verdicts[k], Correct = verdicts[k] == right,
                    RawCompletion = $"Judgment {k} of pair {p}: [[{(verdicts[k] == Verdict.Invalid ? "C" : verdicts[k].ToString())}]]",
                    Model = "judge@sha256:1", Endpoint = "sim", Temperature = 0.7, TopP = 0.9, MaxTokens = 4096, RequestSeed = p * 10 + k, CreatedAt = now,
                });
            db.Annotations.Add(annotation);
        }
        await db.SaveChangesAsync(cancellationToken);
        return (experiment.Id, iteration.Id);
    }
}
