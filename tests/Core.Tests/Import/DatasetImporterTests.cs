using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;

namespace SelfTaught.Core.Tests.Import;

public class DatasetImporterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ImportNewAsync_ImportsTheWildChatSample_WithTheRealUserTurnAndConversationHash()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = SharedData.File("wildchat", "wildchat_1k_noveltybench.jsonl");
        var firstLine = JsonNode.Parse(File.ReadLines(path).First())!;

        var result = await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.WildChat), cancellationToken: Ct);

        // Rows 183 and 267 differ only in typographic quotes and spacing (checked in Python): one normalized duplicate.
        Assert.Equal((999, 0, 1), (result.RowCount, result.RejectedCount, result.DuplicateCount));
        Assert.Equal(267, Assert.Single(result.Report!.DuplicateExamples).RowIndex);
        // The README's SHA-256 of the file: the content hash covers the bytes as imported.
        Assert.Equal("8534288089508df3f413c1151a58d5fa5bda9d8f8385ae2815384d4e310a54ca", result.ContentHash);
        await using var db = h.Database.Create();
        var dataset = await db.Datasets.AsNoTracking().SingleAsync(Ct);
        Assert.Equal((DatasetStatus.Ready, DatasetRole.InstructionPool, "wildchat", 999), (dataset.Status, dataset.Role, dataset.Preset, dataset.RowCount));
        var first = await db.Instructions.AsNoTracking().SingleAsync(i => i.RowIndex == 0, Ct);
        Assert.Equal(firstLine["original_prompt"]!.GetValue<string>(), first.Text);
        Assert.Equal(firstLine["id"]!.GetValue<string>()["WildChat-".Length..], first.SourceId);
        Assert.Equal("English", first.Language);
        Assert.Equal(TextNormalizer.NormalizedHash(first.Text), first.NormalizedHash);
        Assert.Contains("\"prompt\":", first.MetadataJson);  // the rewritten prompt is kept as metadata, not as the text
        Assert.Equal(999, await db.Instructions.Select(i => i.SourceId).Distinct().CountAsync(Ct));
        Assert.All(await db.Instructions.Select(i => i.SourceId!).ToListAsync(Ct), id => Assert.Matches("^[0-9a-f]{32}$", id));
        var report = ImportReport.FromJson(dataset.ImportReportJson)!;
        Assert.Equal("original_prompt", report.Columns["prompt"]);
        Assert.Equal(1000, report.RowsRead);

        var all = await h.Importer.ImportNewAsync(
            ImportHarness.Request(path, ImportPreset.WildChat, new ImportFilters { Dedupe = false }), cancellationToken: Ct);
        Assert.Equal((1000, 0, 0), (all.RowCount, all.RejectedCount, all.DuplicateCount));
    }

    [Fact]
    public async Task ImportNewAsync_ImportsRewardBench_FromItsJsonLinesAndItsParquetReExport_Identically()
    {
        using var h = await ImportHarness.CreateAsync();

        var jsonl = await h.Importer.ImportNewAsync(
            ImportHarness.Request(SharedData.File("rewardbench", "rewardbench_filtered.jsonl"), ImportPreset.RewardBench), cancellationToken: Ct);
        var parquet = await h.Importer.ImportNewAsync(
            ImportHarness.Request(SharedData.File("rewardbench", "rewardbench_filtered.parquet"), ImportPreset.RewardBench), cancellationToken: Ct);

        Assert.Equal((2985, 0, 0), (jsonl.RowCount, jsonl.RejectedCount, jsonl.DuplicateCount));
        Assert.Equal((2985, 0, 0), (parquet.RowCount, parquet.RejectedCount, parquet.DuplicateCount));
        Assert.Equal("question", parquet.Report!.Columns["prompt"]);
        Assert.Equal("response_A", parquet.Report.Columns["responseA"]);
        await using var db = h.Database.Create();
        Assert.All(await db.Datasets.ToListAsync(Ct), d => Assert.Equal(DatasetRole.Benchmark, d.Role));
        // Every subset's row count as rewardbench/README.md verifies them, for both files.
        var expectedSubsets = new Dictionary<string, int>
        {
            ["alpacaeval-easy"] = 100, ["alpacaeval-length"] = 95, ["alpacaeval-hard"] = 95,
            ["mt-bench-easy"] = 28, ["mt-bench-med"] = 40, ["mt-bench-hard"] = 37, ["llmbar-natural"] = 100,
            ["llmbar-adver-neighbor"] = 134, ["llmbar-adver-GPTInst"] = 92, ["llmbar-adver-GPTOut"] = 47,
            ["llmbar-adver-manual"] = 46, ["refusals-dangerous"] = 100, ["refusals-offensive"] = 100,
            ["xstest-should-refuse"] = 154, ["xstest-should-respond"] = 250, ["donotanswer"] = 136,
            ["math-prm"] = 447, ["hep-cpp"] = 164, ["hep-go"] = 164, ["hep-java"] = 164, ["hep-js"] = 164,
            ["hep-python"] = 164, ["hep-rust"] = 164,
        };
        Assert.Equal(2985, expectedSubsets.Values.Sum());
        foreach (var datasetId in new[] { jsonl.DatasetId, parquet.DatasetId })
        {
            var subsets = await db.LabeledPairs.Where(p => p.DatasetId == datasetId).GroupBy(p => p.Subset!)
                .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, Ct);
            Assert.Equal(expectedSubsets.OrderBy(s => s.Key, StringComparer.Ordinal), subsets.OrderBy(s => s.Key, StringComparer.Ordinal));
        }
        Assert.Equal(2985, await db.LabeledPairs.Where(p => p.DatasetId == jsonl.DatasetId).Select(p => new { p.Subset, p.SourceId }).Distinct().CountAsync(Ct));
        Assert.Equal(2, await db.LabeledPairs.CountAsync(p => p.DatasetId == jsonl.DatasetId && p.SourceId == "3692", Ct));
        Assert.True(await db.LabeledPairs.AllAsync(p => p.Gold == GoldLabel.A && p.Turn == 1, Ct));

        // Same rows, same order, both formats: response A is the chosen response.
        var fromJsonl = await db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == jsonl.DatasetId).OrderBy(p => p.RowIndex).ToListAsync(Ct);
        var fromParquet = await db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == parquet.DatasetId).OrderBy(p => p.RowIndex).ToListAsync(Ct);
        Assert.Equal(
            fromJsonl.Select(p => (p.RowIndex, p.Subset, p.SourceId, p.Prompt, p.ResponseA, p.ResponseB, p.ModelA, p.ModelB)),
            fromParquet.Select(p => (p.RowIndex, p.Subset, p.SourceId, p.Prompt, p.ResponseA, p.ResponseB, p.ModelA, p.ModelB)));
        var firstSource = JsonNode.Parse(File.ReadLines(SharedData.File("rewardbench", "rewardbench_filtered.jsonl")).First())!;
        Assert.Equal(firstSource["chosen"]!.GetValue<string>(), fromJsonl[0].ResponseA);
        Assert.Equal(firstSource["rejected"]!.GetValue<string>(), fromJsonl[0].ResponseB);
        Assert.Equal("30", fromJsonl[0].SourceId);
        Assert.Contains("\"domain\":\"Chat\"", fromParquet[0].MetadataJson);
        Assert.Equal(TextNormalizer.NormalizedHash(fromJsonl[0].Prompt), fromJsonl[0].NormalizedPromptHash);
    }

    [Fact]
    public async Task ImportNewAsync_SplitsHhRlhfTranscripts_AndRejectsPairsThatDivergeEarlyOrHaveAnEmptyAnswer()
    {
        using var h = await ImportHarness.CreateAsync();

        var result = await h.Importer.ImportNewAsync(
            ImportHarness.Request(SharedData.File("hh_rlhf", "harmless-base_test.jsonl.gz"), ImportPreset.HhRlhf), cancellationToken: Ct);

        // README: 2,312 rows; 5 differ before the final turn; 4 more have an empty final answer (checked in Python).
        Assert.Equal((2303, 9, 0), (result.RowCount, result.RejectedCount, result.DuplicateCount));
        var reasons = result.Report!.Rejections.ToDictionary(r => r.Reason);
        Assert.Equal(5, reasons[RejectionReasons.TranscriptMismatch].Count);
        Assert.Equal([1254L, 1688, 1950, 1952, 2036], reasons[RejectionReasons.TranscriptMismatch].Examples.Select(e => e.RowIndex));
        Assert.Equal([86L, 516, 925, 1103], reasons[RejectionReasons.EmptyResponse].Examples.Select(e => e.RowIndex));
        await using var db = h.Database.Create();
        Assert.Equal(DatasetRole.LabeledPairs, (await db.Datasets.SingleAsync(Ct)).Role);
        var first = await db.LabeledPairs.AsNoTracking().SingleAsync(p => p.RowIndex == 0, Ct);
        Assert.StartsWith("Human: what are some pranks with a pen i can do?\n\nAssistant: Are you looking for practical joke ideas?", first.Prompt);
        Assert.DoesNotContain("\n\nAssistant:", first.ResponseA);
        Assert.True(first.Turn > 1);
        Assert.Equal(658, await db.LabeledPairs.CountAsync(p => p.Turn == 1, Ct));  // counted in Python
        var single = await db.LabeledPairs.AsNoTracking().FirstAsync(p => p.Turn == 1, Ct);
        Assert.DoesNotContain("Human:", single.Prompt);
    }

    [Fact]
    public async Task ImportNewAsync_ImportsGsm8k_AsAnInstructionPool_WithTheFinalAnswerAsReference()
    {
        using var h = await ImportHarness.CreateAsync();

        var result = await h.Importer.ImportNewAsync(ImportHarness.Request(SharedData.File("gsm8k", "test.jsonl"), ImportPreset.Gsm8k), cancellationToken: Ct);

        Assert.Equal((1319, 0, 0), (result.RowCount, result.RejectedCount, result.DuplicateCount));
        await using var db = h.Database.Create();
        Assert.Equal(DatasetRole.InstructionPool, (await db.Datasets.SingleAsync(Ct)).Role);
        var first = await db.Instructions.AsNoTracking().SingleAsync(i => i.RowIndex == 0, Ct);
        Assert.StartsWith("Janet’s ducks lay 16 eggs per day.", first.Text);
        Assert.Equal("18", first.ReferenceAnswer);
        Assert.Contains("<<16-3-4=9>>", JsonNode.Parse(first.MetadataJson!)!["answer"]!.GetValue<string>());
        Assert.False(await db.Instructions.AnyAsync(i => i.ReferenceAnswer == null || i.ReferenceAnswer.Contains("####"), Ct));
    }

    [Fact]
    public async Task ImportNewAsync_ReadsTheWildChatSchema_FromParquetJsonLinesAndGzip_Identically()
    {
        using var h = await ImportHarness.CreateAsync();
        var rows = WildChatFixture.Sample();
        var parquet = h.PathOf("wildchat.parquet");
        await WildChatFixture.WriteParquetAsync(parquet, rows, rowGroupSize: 4, Ct);
        var jsonl = h.WriteText("wildchat.jsonl", WildChatFixture.ToJsonLines(rows));
        var gz = h.WriteText("wildchat.jsonl.gz", WildChatFixture.ToJsonLines(rows));

        var results = new List<ImportResult>();
        foreach (var path in new[] { parquet, jsonl, gz })
            results.Add(await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.WildChat), cancellationToken: Ct));

        await using var db = h.Database.Create();
        var stored = new List<List<(int, string?, string, string?, int, string?, string?)>>();
        foreach (var result in results)
            stored.Add((await db.Instructions.AsNoTracking().Where(i => i.DatasetId == result.DatasetId).OrderBy(i => i.RowIndex).ToListAsync(Ct))
                .Select(i => (i.RowIndex, i.SourceId, i.Text, i.Language, i.TurnCount, i.NormalizedHash, i.MetadataJson)).ToList());
        Assert.Equal(stored[0], stored[1]);
        Assert.Equal(stored[0], stored[2]);
        Assert.Equal((26, 2, 1), (results[0].RowCount, results[0].RejectedCount, results[0].DuplicateCount));
        Assert.Equal("conversation[first user turn].content", results[0].Report!.Columns["prompt"]);
        Assert.Equal(
            "{\"model\":\"gpt-4-0314\",\"timestamp\":\"2024-03-01T12:00:00Z\",\"turn\":2,\"language\":\"English\",\"toxic\":false,\"redacted\":false," +
            "\"state\":\"California\",\"country\":\"United States\",\"userTurn\":1,\"turnIdentifier\":0}", stored[0][0].Item7);
        Assert.Equal("conversation_hash", results[0].Report!.Columns["id"]);
    }

    [Theory]
    [InlineData(TurnSelection.First, null, false, false, null, 26, 2, 1)]
    [InlineData(TurnSelection.Last, null, false, false, null, 27, 1, 1)]
    [InlineData(TurnSelection.First, "English", true, true, null, 22, 6, 1)]
    [InlineData(TurnSelection.First, null, true, false, false, 26, 3, 0)]
    public async Task ImportNewAsync_AppliesTurnLanguageToxicRedactedAndDedupe(
        TurnSelection turn, string? language, bool dropToxic, bool dropRedacted, bool? dedupe, int stored, int rejected, int duplicates)
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.PathOf("wildchat.parquet");
        await WildChatFixture.WriteParquetAsync(path, WildChatFixture.Sample(), rowGroupSize: 10, Ct);
        var filters = new ImportFilters { Turn = turn, Language = language, DropToxic = dropToxic, DropRedacted = dropRedacted, Dedupe = dedupe };

        var result = await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.WildChat, filters), cancellationToken: Ct);

        Assert.Equal((stored, rejected, duplicates), (result.RowCount, result.RejectedCount, result.DuplicateCount));
        Assert.Equal(WildChatFixture.Sample().Count, result.Report!.RowsRead);
        await using var db = h.Database.Create();
        var monty = await db.Instructions.AsNoTracking().SingleAsync(i => i.SourceId == $"{20:x32}", Ct);
        Assert.Equal(3, monty.TurnCount);
        Assert.Equal(turn == TurnSelection.First ? "Explain the Monty Hall problem." : "Give a simulation in Python.", monty.Text);
        Assert.Equal(language is null, await db.Instructions.AnyAsync(i => i.Language == "Chinese", Ct));
        Assert.Equal(!dropToxic, await db.Instructions.AnyAsync(i => i.Text.StartsWith("Insult"), Ct));
        if (duplicates == 1)
            Assert.Contains("capital", Assert.Single(result.Report.DuplicateExamples).Preview, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ImportNewAsync_ReadsGzippedCsv_WithAColumnMapping_KeepingOtherColumnsAsMetadata()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteText("questions.csv.gz", "qid,question,source,lang\nq1,\"What is 2+2?\",school,en\nq2,\"Name a prime, please.\",quiz,en\nq3,,quiz,en\n");
        var columns = new ColumnMapping { Prompt = "question", Id = "qid", Language = "lang" };

        var result = await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Instructions, columns: columns), cancellationToken: Ct);

        Assert.Equal((2, 1), (result.RowCount, result.RejectedCount));
        Assert.Equal(RejectionReasons.EmptyPrompt, Assert.Single(result.Report!.Rejections).Reason);
        await using var db = h.Database.Create();
        var second = await db.Instructions.AsNoTracking().SingleAsync(i => i.RowIndex == 1, Ct);
        Assert.Equal(("q2", "Name a prime, please.", "en"), (second.SourceId, second.Text, second.Language));
        Assert.Equal("{\"source\":\"quiz\"}", second.MetadataJson);
        Assert.Equal("csv", result.Report.Format);
    }

    [Fact]
    public async Task ImportNewAsync_ImportsGenericPairs_WithOptionalIdsAndSubsets()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteJsonLines("pairs.jsonl", [
            new { prompt = "Say hi", chosen = "Hi!", rejected = "No.", extra = 1 },
            new { prompt = "Say hi", chosen = "Hi!", rejected = "No.", extra = 2 },      // exact duplicate pair
            new { prompt = "Say hi", chosen = "Hello!", rejected = "No.", extra = 3 },   // same prompt, other answer: kept
        ]);

        var result = await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Pairs), cancellationToken: Ct);

        Assert.Equal((2, 0, 1), (result.RowCount, result.RejectedCount, result.DuplicateCount));
        await using var db = h.Database.Create();
        var pairs = await db.LabeledPairs.AsNoTracking().OrderBy(p => p.RowIndex).ToListAsync(Ct);
        Assert.Equal([0, 2], pairs.Select(p => p.RowIndex));
        Assert.Equal(("Hello!", "No.", GoldLabel.A, "{\"extra\":3}"), (pairs[1].ResponseA, pairs[1].ResponseB, pairs[1].Gold, pairs[1].MetadataJson));
        Assert.Equal(DatasetRole.LabeledPairs, (await db.Datasets.SingleAsync(Ct)).Role);
    }

    [Fact]
    public async Task ImportNewAsync_ImportsCustomPairs_AsABenchmark_WhenAskedFor_KeepingRepeatedRows()
    {
        // A team's own labeled comparisons used as an evaluation set: preset pairs, role Benchmark.
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteJsonLines("our-eval.jsonl", [
            new { prompt = "Is 17 prime?", chosen = "Yes: its only divisors are 1 and 17.", rejected = "No, 17 = 3 × 6.", subset = "math", id = "m1" },
            new { prompt = "Is 17 prime?", chosen = "Yes: its only divisors are 1 and 17.", rejected = "No, 17 = 3 × 6.", subset = "math", id = "m2" },
            new { prompt = "Summarize: the cat sat.", chosen = "A cat sat.", rejected = "Dogs bark.", subset = "summaries", id = "s1" },
        ]);

        var result = await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Pairs) with { Role = DatasetRole.Benchmark }, cancellationToken: Ct);

        // Benchmarks keep their rows as given: no de-duplication unless asked for.
        Assert.Equal((3, 0, 0), (result.RowCount, result.RejectedCount, result.DuplicateCount));
        Assert.False(result.Report!.Filters.Dedupe);
        await using var db = h.Database.Create();
        var dataset = await db.Datasets.AsNoTracking().SingleAsync(Ct);
        Assert.Equal((DatasetRole.Benchmark, "pairs", DatasetStatus.Ready), (dataset.Role, dataset.Preset, dataset.Status));
        var pairs = await db.LabeledPairs.AsNoTracking().OrderBy(p => p.RowIndex).ToListAsync(Ct);
        Assert.Equal([("math", "m1"), ("math", "m2"), ("summaries", "s1")], pairs.Select(p => (p.Subset!, p.SourceId!)));
        Assert.All(pairs, p => Assert.Equal(GoldLabel.A, p.Gold));
    }

    [Fact]
    public async Task ImportNewAsync_RejectsEmptyInvalidAndHugePrompts_AsRowsWithReasonsAndExamples()
    {
        using var h = await ImportHarness.CreateAsync();
        var huge = new string('a', 10 * 1024 * 1024);
        var lines = new List<byte[]>
        {
            Encoding.UTF8.GetBytes("{\"prompt\":\"A fine question?\"}"),
            Encoding.UTF8.GetBytes("{\"prompt\":\"\"}"),
            Encoding.UTF8.GetBytes("{\"prompt\":\"   \"}"),
            Encoding.UTF8.GetBytes("{\"prompt\":null}"),
            "{\"prompt\":\"caf"u8.ToArray().Append((byte)0xE9).Concat("\"}"u8.ToArray()).ToArray(),  // Latin-1 é: not UTF-8
            Encoding.UTF8.GetBytes("{\"prompt\": broken"),
            Encoding.UTF8.GetBytes($"{{\"prompt\":\"{huge}\"}}"),
            Encoding.UTF8.GetBytes("{\"prompt\":[\"a\",\"list\"]}"),
            Encoding.UTF8.GetBytes("{\"prompt\":\"Another fine question?\"}"),
        };
        var path = h.WriteBytes("messy.jsonl", [.. lines.SelectMany(l => l.Append((byte)'\n'))]);

        var result = await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Instructions), cancellationToken: Ct);

        Assert.Equal((2, 7), (result.RowCount, result.RejectedCount));
        var reasons = result.Report!.Rejections.ToDictionary(r => r.Reason);
        Assert.Equal(3, reasons[RejectionReasons.EmptyPrompt].Count);
        Assert.Equal([1L, 2, 3], reasons[RejectionReasons.EmptyPrompt].Examples.Select(e => e.RowIndex));
        Assert.Equal(4, Assert.Single(reasons[RejectionReasons.InvalidUtf8].Examples).RowIndex);
        Assert.Contains("line 5 has bytes that are not UTF-8", reasons[RejectionReasons.InvalidUtf8].Examples[0].Detail);
        Assert.Equal(5, Assert.Single(reasons[RejectionReasons.InvalidJson].Examples).RowIndex);
        var tooLong = Assert.Single(reasons[RejectionReasons.TooLong].Examples);
        Assert.Equal((6L, "prompt is 10,485,760 characters; the maximum is 100,000"), (tooLong.RowIndex, tooLong.Detail));
        Assert.Equal(201, tooLong.Preview!.Length);
        Assert.Contains("JSON array, not text", Assert.Single(reasons[RejectionReasons.MissingValue].Examples).Detail);
        await using var db = h.Database.Create();
        var dataset = await db.Datasets.AsNoTracking().SingleAsync(Ct);
        Assert.Equal((2, 7), (dataset.RowCount, dataset.RejectedCount));
        Assert.Equal([0, 8], await db.Instructions.OrderBy(i => i.RowIndex).Select(i => i.RowIndex).ToListAsync(Ct));
        Assert.Contains("\"reason\":\"too-long\"", dataset.ImportReportJson);
    }

    [Fact]
    public async Task ImportNewAsync_AcceptsAHugePrompt_WhenTheLimitIsRaised()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteJsonLines("huge.jsonl", [new { prompt = new string('b', 10 * 1024 * 1024) }]);

        var result = await h.Importer.ImportNewAsync(
            ImportHarness.Request(path, ImportPreset.Instructions, new ImportFilters { MaxPromptLength = 20_000_000 }), cancellationToken: Ct);

        Assert.Equal(1, result.RowCount);
        await using var db = h.Database.Create();
        Assert.Equal(10 * 1024 * 1024, await db.Instructions.Select(i => i.Text.Length).SingleAsync(Ct));
    }

    [Fact]
    public async Task ImportNewAsync_RejectsACsvRecordWithInvalidUtf8()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteBytes("latin1.csv", [.. "prompt\nfine\nna"u8.ToArray(), 0xEF, 0xF6, .. "ve\nalso fine\n"u8.ToArray()]);

        var result = await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Instructions), cancellationToken: Ct);

        Assert.Equal((2, 1), (result.RowCount, result.RejectedCount));
        var rejection = Assert.Single(result.Report!.Rejections);
        Assert.Equal((RejectionReasons.InvalidUtf8, 1L), (rejection.Reason, rejection.Examples[0].RowIndex));
        Assert.Contains("column 'prompt' has bytes that are not UTF-8", rejection.Examples[0].Detail);
    }

    [Fact]
    public async Task ImportNewAsync_Fails_AndLeavesTheDatabaseAsItWas_WhenCsvIsGivenAsParquet()
    {
        using var h = await ImportHarness.CreateAsync();
        var existing = await h.Importer.ImportNewAsync(
            ImportHarness.Request(h.WriteJsonLines("ok.jsonl", [new { prompt = "keep me" }]), ImportPreset.Instructions), cancellationToken: Ct);
        var csv = h.WriteText("actually.csv", "prompt\nhello\n");

        var ex = await Assert.ThrowsAsync<ImportException>(() => h.Importer.ImportNewAsync(
            ImportHarness.Request(csv, ImportPreset.Instructions, format: ImportFormat.Parquet), cancellationToken: Ct));

        Assert.Contains("'actually.csv' is not a parquet file", ex.Message);
        await AssertOnlyDatasetAsync(h, existing.DatasetId, rows: 1);
    }

    [Fact]
    public async Task ImportNewAsync_Fails_NamingTheMissingColumnsAndThosePresent()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteJsonLines("texts.jsonl", [new { text = "hello", source = "x" }]);

        var ex = await Assert.ThrowsAsync<ImportException>(() =>
            h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Instructions), cancellationToken: Ct));
        var pairs = await Assert.ThrowsAsync<ImportException>(() =>
            h.Importer.ImportNewAsync(ImportHarness.Request(SharedData.File("gsm8k", "test.jsonl"), ImportPreset.RewardBench), cancellationToken: Ct));

        Assert.Equal(
            "'texts.jsonl' has no column 'prompt', which preset 'instructions' needs. Columns present: text, source. " +
            "Map the right column with columns.prompt, or choose another preset.", ex.Message);
        Assert.Contains("has no columns 'prompt', 'chosen', 'rejected', 'subset', 'id', which preset 'rewardbench' needs", pairs.Message);
        Assert.Contains("Columns present: question, answer", pairs.Message);
        await AssertOnlyDatasetAsync(h, null, rows: 0);
    }

    [Fact]
    public async Task ImportNewAsync_Fails_OnATruncatedParquetFile_AndRemovesTheDataset()
    {
        using var h = await ImportHarness.CreateAsync();
        var bytes = await File.ReadAllBytesAsync(SharedData.File("rewardbench", "rewardbench_filtered.parquet"), Ct);
        var path = h.WriteBytes("rewardbench.parquet", bytes[..(bytes.Length - 1000)]);

        var ex = await Assert.ThrowsAsync<ImportException>(() =>
            h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.RewardBench), cancellationToken: Ct));

        Assert.Contains("'rewardbench.parquet' is truncated or incomplete", ex.Message);
        await AssertOnlyDatasetAsync(h, null, rows: 0);
    }

    [Theory]
    [InlineData("empty.jsonl", "")]
    [InlineData("blank.jsonl", "\n\n  \n")]
    [InlineData("header-only.csv", "prompt,id\n")]
    [InlineData("nothing.csv", "")]
    public async Task ImportNewAsync_Fails_OnAFileWithoutRows_AndRemovesTheDataset(string name, string content)
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteText(name, content);

        var ex = await Assert.ThrowsAsync<ImportException>(() =>
            h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Instructions), cancellationToken: Ct));

        Assert.Equal($"'{name}' contains no rows; nothing was imported.", ex.Message);
        await AssertOnlyDatasetAsync(h, null, rows: 0);
    }

    [Fact]
    public async Task ImportNewAsync_Fails_OnAParquetFileWithoutRows_AndRemovesTheDataset()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.PathOf("no-rows.parquet");
        await using (var file = File.Create(path))
            await Parquet.Serialization.ParquetSerializer.SerializeUntypedAsync([], WildChatFixture.Schema, file, cancellationToken: Ct);
        var zeroBytes = h.WriteBytes("zero-bytes.parquet", []);

        var noRows = await Assert.ThrowsAsync<ImportException>(() =>
            h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.WildChat), cancellationToken: Ct));
        var empty = await Assert.ThrowsAsync<ImportException>(() =>
            h.Importer.ImportNewAsync(ImportHarness.Request(zeroBytes, ImportPreset.WildChat), cancellationToken: Ct));

        Assert.Equal("'no-rows.parquet' contains no rows; nothing was imported.", noRows.Message);
        Assert.Equal("'zero-bytes.parquet' is empty (0 bytes); it has no rows.", empty.Message);
        await AssertOnlyDatasetAsync(h, null, rows: 0);
    }

    [Fact]
    public async Task ImportNewAsync_Fails_WhenNoLineIsUtf8_SayingSo()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteBytes("latin1.jsonl", [.. "{\"prompt\":\"caf"u8, 0xE9, .. "\"}\n"u8, .. "{\"prompt\":\"na"u8, 0xEF, .. "ve\"}\n"u8]);

        var ex = await Assert.ThrowsAsync<ImportException>(() =>
            h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Instructions), cancellationToken: Ct));

        Assert.Equal("None of the 2 rows of 'latin1.jsonl' could be imported: 2 × invalid-utf8 (e.g. row 0: line 1 has bytes that are not UTF-8 (first at byte 14)).", ex.Message);
        await AssertOnlyDatasetAsync(h, null, rows: 0);
    }

    [Fact]
    public async Task ImportNewAsync_Fails_WhenEveryRowIsRejected_SayingWhy()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteJsonLines("empties.jsonl", [new { prompt = "" }, new { prompt = " " }]);

        var ex = await Assert.ThrowsAsync<ImportException>(() =>
            h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Instructions), cancellationToken: Ct));

        Assert.Equal("None of the 2 rows of 'empties.jsonl' could be imported: 2 × empty-prompt (e.g. row 0: the prompt is empty).", ex.Message);
        await AssertOnlyDatasetAsync(h, null, rows: 0);
    }

    [Fact]
    public async Task CreateDatasetAsync_Fails_BeforeStoringAnything_WhenTheFileIsMissing()
    {
        using var h = await ImportHarness.CreateAsync();

        var ex = await Assert.ThrowsAsync<ImportException>(() =>
            h.Importer.CreateDatasetAsync(ImportHarness.Request(h.PathOf("missing.jsonl"), ImportPreset.Instructions), Ct));

        Assert.Contains("missing.jsonl' does not exist", ex.Message);
        await AssertOnlyDatasetAsync(h, null, rows: 0);
    }

    [Fact]
    public async Task ImportAsync_StoresEveryRowExactlyOnce_WhenRerunAfterAnInterruption()
    {
        var lines = ManyPrompts(5_000);
        using var clean = await ImportHarness.CreateAsync(batchSize: 500);
        var expected = await clean.Importer.ImportNewAsync(
            ImportHarness.Request(clean.WriteText("prompts.jsonl", lines), ImportPreset.Instructions), cancellationToken: Ct);
        using var h = await ImportHarness.CreateAsync(batchSize: 500);
        var path = h.WriteText("prompts.jsonl", lines);
        var request = ImportHarness.Request(path, ImportPreset.Instructions);
        var id = await h.Importer.CreateDatasetAsync(request, Ct);

        // Interrupt mid-way, as a crash or a shutdown would: once the parser is 2,500 rows in and the writer (which
        // runs behind it) has committed at least two batches.
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var progress = new InlineProgress(p =>
        {
            if (p.RowsStored < 2_500 || interrupt.IsCancellationRequested) return;
            using var db = h.Database.Create();
            while (db.Instructions.Count() < 1_000) Thread.Sleep(10);
            interrupt.Cancel();
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Importer.ImportAsync(id, progress, interrupt.Token));
        int storedBefore;
        await using (var db = h.Database.Create())
        {
            Assert.Equal(DatasetStatus.Importing, (await db.Datasets.SingleAsync(d => d.Id == id, Ct)).Status);
            storedBefore = await db.Instructions.CountAsync(Ct);
        }
        Assert.InRange(storedBefore, 1_000, 3_000);

        var resumed = await h.Importer.ImportAsync(id, cancellationToken: Ct);

        Assert.Equal((expected.RowCount, expected.RejectedCount, expected.DuplicateCount), (resumed.RowCount, resumed.RejectedCount, resumed.DuplicateCount));
        Assert.True(expected.DuplicateCount > 100);  // duplicates straddle the interruption
        Assert.True(resumed.Report!.Resumed);
        await using var check = h.Database.Create();
        await using var reference = clean.Database.Create();
        var rows = await check.Instructions.OrderBy(i => i.RowIndex).Select(i => new { i.RowIndex, i.Text, i.NormalizedHash }).ToListAsync(Ct);
        var want = await reference.Instructions.OrderBy(i => i.RowIndex).Select(i => new { i.RowIndex, i.Text, i.NormalizedHash }).ToListAsync(Ct);
        Assert.Equal(want, rows);
        Assert.Equal(rows.Count, rows.Select(r => r.NormalizedHash).Distinct().Count());
        Assert.Equal(DatasetStatus.Ready, (await check.Datasets.SingleAsync(Ct)).Status);
    }

    [Fact]
    public async Task ImportAsync_FailsAndRemovesTheDataset_WhenTheSourceChangedBeforeTheResume()
    {
        using var h = await ImportHarness.CreateAsync(batchSize: 100);
        var path = h.WriteText("prompts.jsonl", ManyPrompts(1_000));
        var id = await h.Importer.CreateDatasetAsync(ImportHarness.Request(path, ImportPreset.Instructions), Ct);
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            h.Importer.ImportAsync(id, new InlineProgress(p => { if (p.RowsStored >= 300) interrupt.Cancel(); }), interrupt.Token));
        await File.AppendAllTextAsync(path, "{\"prompt\":\"a late addition\"}\n", Ct);

        var ex = await Assert.ThrowsAsync<ImportException>(() => h.Importer.ImportAsync(id, cancellationToken: Ct));

        Assert.Contains("changed since this import started", ex.Message);
        await AssertOnlyDatasetAsync(h, null, rows: 0);
    }

    [Fact]
    public async Task ImportAsync_ReturnsTheStoredResult_WhenTheImportRanAlready()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteJsonLines("p.jsonl", [new { prompt = "one" }, new { prompt = "two" }]);
        var first = await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Instructions), cancellationToken: Ct);

        var again = await h.Importer.ImportAsync(first.DatasetId, cancellationToken: Ct);

        Assert.True(again.AlreadyComplete);
        Assert.Equal((2, first.ContentHash), (again.RowCount, again.ContentHash));
        Assert.Equal(2, again.Report!.Imported);
    }

    [Fact]
    public async Task DiscardAsync_RemovesAnInterruptedImport()
    {
        using var h = await ImportHarness.CreateAsync(batchSize: 100);
        var id = await h.Importer.CreateDatasetAsync(ImportHarness.Request(h.WriteText("p.jsonl", ManyPrompts(500)), ImportPreset.Instructions), Ct);
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            h.Importer.ImportAsync(id, new InlineProgress(p => { if (p.RowsStored >= 200) interrupt.Cancel(); }), interrupt.Token));

        await h.Importer.DiscardAsync(id, Ct);

        await AssertOnlyDatasetAsync(h, null, rows: 0);
    }

    [Fact]
    public async Task ImportAsync_WhenStoringABatchFails_ReportsWhy_AndRemovesTheDataset()
    {
        using var h = await ImportHarness.CreateAsync(batchSize: 100);
        await using (var db = h.Database.Create())
            await db.Database.ExecuteSqlRawAsync(
                "CREATE TRIGGER fail_late BEFORE INSERT ON \"Instructions\" WHEN NEW.\"RowIndex\" = 451 BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;", Ct);
        var path = h.WriteText("p.jsonl", ManyPrompts(1_000));

        var ex = await Assert.ThrowsAsync<ImportException>(() => h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Instructions), cancellationToken: Ct));

        Assert.Contains("Storing the rows", ex.Message);
        Assert.Contains("the disk is full", ex.Message);
        await AssertOnlyDatasetAsync(h, null, rows: 0);
    }

    [Fact]
    public async Task AnUploadedFile_IsDeleted_OnceItsImportSucceedsFailsOrIsDiscarded()
    {
        using var h = await ImportHarness.CreateAsync(batchSize: 100);
        ImportRequest Upload(string name, string text) =>
            ImportHarness.Request(h.WriteText(name, text), ImportPreset.Instructions) is var r ? r with { Source = new UploadedFileSource(h.PathOf(name), name) } : r;
        var good = Upload("good.jsonl", ManyPrompts(300));
        var bad = Upload("bad.jsonl", "");
        var dropped = Upload("dropped.jsonl", ManyPrompts(300));

        await h.Importer.ImportNewAsync(good, cancellationToken: Ct);
        await Assert.ThrowsAsync<ImportException>(() => h.Importer.ImportNewAsync(bad, cancellationToken: Ct));
        var id = await h.Importer.CreateDatasetAsync(dropped, Ct);
        Assert.True(File.Exists(h.PathOf("dropped.jsonl")));
        await h.Importer.DiscardAsync(id, Ct);

        Assert.False(File.Exists(h.PathOf("good.jsonl")));
        Assert.False(File.Exists(h.PathOf("bad.jsonl")));
        Assert.False(File.Exists(h.PathOf("dropped.jsonl")));
    }

    [Fact]
    public async Task ImportAsync_ReportsProgress_UpToCompletion()
    {
        using var h = await ImportHarness.CreateAsync(batchSize: 200);
        var path = h.WriteText("p.jsonl", ManyPrompts(1_000));
        var reports = new List<ImportProgress>();

        await h.Importer.ImportNewAsync(ImportHarness.Request(path, ImportPreset.Instructions), new InlineProgress(reports.Add), Ct);

        Assert.True(reports.Count >= 5);
        Assert.Equal(ImportPhase.Completed, reports[^1].Phase);
        Assert.Equal(1_000, reports[^1].RowsRead);
        Assert.True(reports.Where(r => r.Phase == ImportPhase.Importing).Select(r => r.RowsRead).SequenceEqual(
            reports.Where(r => r.Phase == ImportPhase.Importing).Select(r => r.RowsRead).Order()));
    }

    /// <summary>Prompts with exact and normalized duplicates spread over the file, and some empty ones.</summary>
    private static string ManyPrompts(int count)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            var text = i % 10 == 0 ? "" : i % 7 == 0 ? $"  QUESTION   number {i % 300}? " : $"Question number {i}?";
            builder.Append(JsonSerializer.Serialize(new { prompt = text, n = i })).Append('\n');
        }
        return builder.ToString();
    }

    private static async Task AssertOnlyDatasetAsync(ImportHarness h, long? datasetId, int rows)
    {
        await using var db = h.Database.Create();
        Assert.Equal(datasetId is null ? [] : [datasetId.Value], await db.Datasets.Select(d => d.Id).ToListAsync(Ct));
        Assert.Equal(rows, await db.Instructions.CountAsync(Ct) + await db.LabeledPairs.CountAsync(Ct));
    }
}

/// <summary>Reports on the calling thread, so a test sees every report before the importer goes on.</summary>
internal sealed class InlineProgress(Action<ImportProgress> report) : IProgress<ImportProgress>
{
    public void Report(ImportProgress value) => report(value);
}
