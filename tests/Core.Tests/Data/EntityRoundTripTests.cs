using System.Reflection;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Tests.Data;

public class EntityRoundTripTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryEntity_RoundTripsEveryScalarProperty_ThroughAMigratedFile()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        var graph = BuildGraph();

        await using (var db = temp.Create())
        {
            await SaveInOrder(db, graph);
        }

        await using var read = temp.Create();
        var modelTypes = read.Model.GetEntityTypes().Select(t => t.ClrType).ToHashSet();
        Assert.Equal(modelTypes.OrderBy(t => t.Name), graph.Select(e => e.GetType()).Distinct().OrderBy(t => t.Name));
        foreach (var original in graph)
        {
            var id = (long)original.GetType().GetProperty("Id")!.GetValue(original)!;
            Assert.True(id > 0, $"{original.GetType().Name} got no id");
            var loaded = await read.FindAsync(original.GetType(), [id], Ct);
            Assert.NotNull(loaded);
            foreach (var property in ScalarProperties(original.GetType()))
            {
                var expected = property.GetValue(original);
                var actual = property.GetValue(loaded);
                if (expected is DateTime e && actual is DateTime a)
                    Assert.Equal(e.Ticks, a.Ticks);
                else
                    Assert.True(Equals(expected, actual), $"{original.GetType().Name}.{property.Name}: wrote {expected}, read {actual}");
            }
        }
    }

    [Fact]
    public async Task DeletingAnExperiment_RemovesWhatItOwns_AndKeepsItsEvaluations()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        var graph = BuildGraph();
        await using (var db = temp.Create())
            await SaveInOrder(db, graph);

        await using var delete = temp.Create();
        var removed = await delete.Experiments.ExecuteDeleteAsync(Ct);

        Assert.Equal(1, removed);
        Assert.Equal(0, await delete.Pairs.CountAsync(Ct));
        Assert.Equal(0, await delete.Iterations.CountAsync(Ct));
        Assert.Equal(0, await delete.JudgmentSamples.CountAsync(Ct));
        Assert.Equal(0, await delete.TrainingSetMembers.CountAsync(Ct));
        Assert.Equal(0, await delete.AuditLabels.CountAsync(Ct));
        var run = await delete.EvaluationRuns.SingleAsync(Ct);
        Assert.Null(run.ExperimentId);
        Assert.Null(run.CandidateModelId);
        Assert.Equal(1, await delete.EvaluationResults.CountAsync(Ct));
        Assert.Null((await delete.StageRuns.SingleAsync(Ct)).ExperimentId);
    }

    [Fact]
    public async Task Model_HasNoChangesMissingFromTheMigrations()
    {
        using var temp = new TempDatabase();
        await using var db = temp.Create();

        Assert.False(db.Database.HasPendingModelChanges(), "Run: dotnet ef migrations add <Name> --project src/Core");
    }

    /// <summary>One of every entity, parents before children, every scalar set to a non-default value.</summary>
    private static List<object> BuildGraph()
    {
        var template = Fill(new PromptTemplate { Key = "judge-pairwise", Name = "Pairwise judge", UserText = "u", ContentHash = "h" });
        var dataset = Fill(new Dataset { Name = "pool" });
        var instruction = Fill(new Instruction { Text = "Explain", Dataset = dataset, AnalysisTemplate = template });
        var labeled = Fill(new LabeledPair { Prompt = "p", ResponseA = "a", ResponseB = "b", Dataset = dataset });
        var experiment = Fill(new Experiment { Name = "exp", SeedModel = "s", GeneratorModel = "g", JudgeModel = "j", InstructionDataset = dataset });
        var selected = Fill(new ExperimentInstruction { Experiment = experiment, Instruction = instruction });
        var pair = Fill(new Pair { Prompt = "x", Experiment = experiment, Instruction = instruction, SourceLabeledPair = labeled, Template = template });
        var iteration = Fill(new Iteration { JudgeModel = "j", Experiment = experiment, JudgeTemplate = template });
        var candidate = Fill(new CandidateModel { Name = "ckpt-100", Model = "m", Iteration = iteration });
        var annotation = Fill(new Annotation { JudgePrompt = "prompt", Iteration = iteration, Pair = pair, Template = template });
        var sample = Fill(new JudgmentSample { Annotation = annotation });
        var rejected = Fill(new JudgmentSample { Annotation = annotation });
        var trainingSet = Fill(new TrainingSet { Iteration = iteration });
        var member = Fill(new TrainingSetMember { TrainingSet = trainingSet, Annotation = annotation });
        var endpoint = Fill(new BackendEndpoint { Name = "local", BaseUrl = "http://localhost:11434" });
        var run = Fill(new EvaluationRun { Model = "m", Dataset = dataset, Experiment = experiment, CandidateModel = candidate, Template = template });
        var result = Fill(new EvaluationResult { ExampleKey = "chat/1", EvaluationRun = run });
        var audit = Fill(new AuditSession { Name = "spot-check", Experiment = experiment });
        var assignment = Fill(new AuditAssignment { AuditSession = audit, Pair = pair, Annotation = annotation });
        var label = Fill(new AuditLabel { Reviewer = "ana", AuditAssignment = assignment });
        var stageRun = Fill(new StageRun());
        var failure = Fill(new StageRunFailure { Message = "boom", StageRun = stageRun });
        return [template, dataset, instruction, labeled, experiment, selected, pair, iteration, candidate, annotation, sample, rejected,
            trainingSet, member, endpoint, run, result, audit, assignment, label, stageRun, failure];
    }

    /// <summary>Saves parents first, since some foreign keys have no navigation, then fills those keys.</summary>
    private static async Task SaveInOrder(SelfTaughtDbContext db, List<object> graph)
    {
        var samples = graph.OfType<JudgmentSample>().ToList();
        var member = graph.OfType<TrainingSetMember>().Single();
        foreach (var entity in graph.Except([.. samples, member])) db.Add(entity);
        await db.SaveChangesAsync(Ct);

        var iteration = graph.OfType<Iteration>().Single();
        var template = graph.OfType<PromptTemplate>().Single();
        foreach (var sample in samples)
        {
            sample.IterationId = iteration.Id;
            sample.PairId = graph.OfType<Pair>().Single().Id;
            sample.TemplateId = template.Id;
            db.Add(sample);
        }
        await db.SaveChangesAsync(Ct);

        member.ChosenSampleId = samples[0].Id;
        member.RejectedSampleId = samples[1].Id;
        db.Add(member);
        var stageRun = graph.OfType<StageRun>().Single();
        stageRun.DatasetId = graph.OfType<Dataset>().Single().Id;
        stageRun.ExperimentId = graph.OfType<Experiment>().Single().Id;
        stageRun.IterationId = iteration.Id;
        stageRun.EvaluationRunId = graph.OfType<EvaluationRun>().Single().Id;
        graph.OfType<AuditSession>().Single().IterationId = iteration.Id;
        iteration.JudgeCandidateModelId = graph.OfType<CandidateModel>().Single().Id;
        await db.SaveChangesAsync(Ct);
    }

    private static IEnumerable<PropertyInfo> ScalarProperties(Type type) =>
        type.GetProperties().Where(p => p.CanWrite && IsScalar(p.PropertyType));

    private static bool IsScalar(Type t)
    {
        var u = Nullable.GetUnderlyingType(t) ?? t;
        return u.IsPrimitive || u.IsEnum || u == typeof(string) || u == typeof(DateTime) || u == typeof(decimal);
    }

    private static int _counter;

    /// <summary>Sets every scalar that is not a key or foreign key to a distinct non-default value.</summary>
    private static T Fill<T>(T entity)
    {
        foreach (var p in ScalarProperties(typeof(T)))
        {
            if (p.Name == "Id" || p.Name.EndsWith("Id", StringComparison.Ordinal) && p.Name != "SourceId") continue;
            var n = Interlocked.Increment(ref _counter);
            var u = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            object value = u switch
            {
                _ when u == typeof(string) => p.Name.EndsWith("Json", StringComparison.Ordinal) ? $"{{\"n\":{n}}}" : $"{p.Name} ünïcode ’ {n}",
                _ when u == typeof(int) => 1000 + n,
                _ when u == typeof(long) => 5_000_000_000L + n,
                _ when u == typeof(double) => 0.25 + n,
                _ when u == typeof(bool) => true,
                _ when u == typeof(char) => 'c',
                _ when u == typeof(DateTime) => new DateTime(2026, 11, 23, 12, 34, 56, DateTimeKind.Utc).AddTicks(n * 1234567),
                _ when u.IsEnum => Enum.GetValues(u).GetValue(Enum.GetValues(u).Length - 1)!,
                _ => throw new NotSupportedException($"{typeof(T).Name}.{p.Name}: {u}"),
            };
            p.SetValue(entity, value);
        }
        return entity;
    }
}
