// Storage write benchmark: how judgment samples reach SQLite.
// Compares, in one run on one machine, (1) one SaveChanges per sample, (2) one SaveChanges per batch and
// (3) InsertOrIgnoreAsync per batch (the path jobs use, which also skips rows a rerun already stored).
// Reports rows/s and ratios to the batched path. Usage: dotnet run -c Release --project bench/Storage.Bench [-- samples]
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Annotation = SelfTaught.Core.Data.Entities.Annotation;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;

var samples = args.Length > 0 && int.TryParse(args[0], out var n) ? n : 20_000;
const int batchSize = 1_000;
var root = Path.Combine(Path.GetTempPath(), "selftaught-bench-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(root);
try
{
    Console.WriteLine($"Writing {samples:N0} judgment samples per method (batch {batchSize:N0}) to a WAL-mode SQLite file.");
    var perRow = await Measure("SaveChanges per row", Math.Min(samples, 2_000), async (db, rows) =>
    {
        foreach (var row in rows) { db.JudgmentSamples.Add(row); await db.SaveChangesAsync(); db.ChangeTracker.Clear(); }
    });
    var batched = await Measure("SaveChanges per batch", samples, async (db, rows) =>
    {
        foreach (var chunk in rows.Chunk(batchSize)) { db.JudgmentSamples.AddRange(chunk); await db.SaveChangesAsync(); db.ChangeTracker.Clear(); }
    });
    var ignore = await Measure("InsertOrIgnoreAsync per batch", samples, async (db, rows) =>
    {
        foreach (var chunk in rows.Chunk(batchSize)) await db.InsertOrIgnoreAsync(chunk);
    });
    var rerun = await Measure("InsertOrIgnoreAsync rerun (all present)", samples, async (db, rows) =>
    {
        foreach (var chunk in rows.Chunk(batchSize)) await db.InsertOrIgnoreAsync(chunk);
        foreach (var chunk in rows.Chunk(batchSize)) await db.InsertOrIgnoreAsync(chunk);
    }, passes: 2);

    Console.WriteLine();
    Console.WriteLine("| method | rows/s | ratio to SaveChanges per batch |");
    Console.WriteLine("|---|---:|---:|");
    foreach (var (name, rate) in new[] { perRow, batched, ignore, rerun })
        Console.WriteLine($"| {name} | {rate:N0} | {rate / batched.Rate:0.00} |");
}
finally
{
    SqliteConnection.ClearAllPools();
    Directory.Delete(root, recursive: true);
}

async Task<(string Name, double Rate)> Measure(string name, int count, Func<SelfTaughtDbContext, List<JudgmentSample>, Task> write, int passes = 1)
{
    var options = DatabaseOptions.Resolve($"Data Source={name.Replace(' ', '-')}.db", root);
    var factory = new PooledDbContextFactory<SelfTaughtDbContext>(
        new DbContextOptionsBuilder<SelfTaughtDbContext>().UseSelfTaughtSqlite(options.ConnectionString).Options);
    await DatabaseInitializer.InitializeAsync(factory, options, NullLogger.Instance, integrityCheck: false);
    long iterationId, pairId, annotationId;
    await using (var db = factory.CreateDbContext())
    {
        var annotation = new Annotation
        {
            JudgePrompt = "[User Question] ...", ChosenPosition = Position.A, Gold = Position.A,
            Pair = new Pair { Prompt = "x", Status = PairStatus.Ready, Experiment = new Experiment
            {
                Name = "bench", SeedModel = "s", GeneratorModel = "g", JudgeModel = "j",
                InstructionDataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool },
            } },
        };
        annotation.Iteration = new Iteration { Experiment = annotation.Pair.Experiment, Number = 1, JudgeModel = "j" };
        db.Annotations.Add(annotation);
        await db.SaveChangesAsync();
        (iterationId, pairId, annotationId) = (annotation.IterationId, annotation.PairId, annotation.Id);
    }
    var text = string.Concat(Enumerable.Repeat("The response of Assistant A is more accurate. ", 30)) + "[[A]]";
    var rows = Enumerable.Range(0, count).Select(i => new JudgmentSample
    {
        IterationId = iterationId, PairId = pairId, AnnotationId = annotationId, SampleIndex = i, RawCompletion = text,
        Verdict = Verdict.A, Correct = true, Temperature = 0.7, TopP = 0.9, MaxTokens = 4096, RequestSeed = i,
        PromptTokens = 900, CompletionTokens = 300, LatencyMs = 2000, FinishReason = "stop", CreatedAt = DateTime.UtcNow,
    }).ToList();

    var clock = Stopwatch.StartNew();
    await using (var db = factory.CreateDbContext()) await write(db, rows);
    clock.Stop();
    await using (var check = factory.CreateDbContext())
    {
        var stored = await check.JudgmentSamples.CountAsync();
        if (stored != count) throw new InvalidOperationException($"{name}: stored {stored}, expected {count}");
    }
    var rate = count * passes / clock.Elapsed.TotalSeconds;
    Console.WriteLine($"{name,-42} {count * passes,8:N0} rows in {clock.Elapsed.TotalMilliseconds,8:N0} ms = {rate,10:N0} rows/s");
    return (name, rate);
}
