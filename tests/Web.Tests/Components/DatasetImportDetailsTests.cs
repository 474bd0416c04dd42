using Bunit;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;
using SelfTaught.Web.Components.Pages.Data;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>The Data page's Import card: a dataset's source, settings and import report, read from the database.</summary>
public sealed class DatasetImportDetailsTests : DatabaseBunitContext
{
    private static readonly DateTime Started = new(2025, 2, 1, 9, 0, 0, DateTimeKind.Utc);
    private static readonly string Hash = string.Concat(Enumerable.Repeat("0123456789abcdef", 4));

    [Fact]
    public async Task Render_ShowsSourceSettingsCountsAndReasons_WhenTheImportStoredAFullReport()
    {
        var report = new ImportReport
        {
            Format = "parquet",
            Preset = "wildchat",
            Files =
            [
                new ImportedFile("default/train/0000.parquet", 1_572_864, "http://hub.test/0000.parquet"),
                new ImportedFile("default/train/0001.parquet", 800, "http://hub.test/0001.parquet"),
            ],
            Columns = new Dictionary<string, string> { ["prompt"] = "conversation[last user turn].content", ["id"] = "conversation_hash" },
            Filters = new ImportFilters { Turn = TurnSelection.Last, Language = "English", DropToxic = true, MinPromptLength = 5, MaxPromptLength = 900, Dedupe = true },
            RowsRead = 242, Imported = 200, Rejected = 37, Duplicates = 5,
            Rejections =
            [
                new RejectionSummary(RejectionReasons.Language, 30, [new RowExample(12, "language is French", "Bonjour, peux-tu"), new RowExample(57, "language is German", "Hallo")]),
                new RejectionSummary(RejectionReasons.EmptyPrompt, 7, [new RowExample(3, "the prompt is empty", null)]),
            ],
            DuplicateExamples = [new RowExample(40, "same normalized text as an earlier row", "Hello there")],
            Resumed = true,
            StartedAt = Started,
            CompletedAt = Started.AddSeconds(185),
        };
        var id = await AddDatasetAsync(new Dataset
        {
            Name = "WildChat English", Role = DatasetRole.InstructionPool, Preset = "wildchat", Source = "allenai/WildChat-1M",
            SourceConfig = "default", SourceSplit = "train", SourceRevision = "abc123", ContentHash = Hash,
            RowCount = 200, RejectedCount = 37, DuplicateCount = 5, ImportReportJson = report.ToJson(), CreatedAt = Started,
        });

        var cut = Render<DatasetImportDetails>(p => p.Add(c => c.DatasetId, id));

        cut.WaitForAssertion(() => cut.Find("#import-settings"));
        Assert.Contains("WildChat English", cut.Find("#dataset-import-details h3").TextContent);
        Assert.Equal(new[] { "242", "200", "37", "5" }, new[] { "rows-read", "imported", "rejected", "duplicates" }.Select(f => Text(cut, $"#import-counts [data-field={f}] dd")));
        Assert.Equal("allenai/WildChat-1M (config default, split train, revision abc123)", Setting(cut, "source"));
        Assert.Equal("wildchat", Setting(cut, "preset"));
        Assert.Equal("parquet", Setting(cut, "format"));
        Assert.Equal(["default/train/0000.parquet (1.50 MB)", "default/train/0001.parquet (800 B)"],
            cut.FindAll("#import-settings [data-field=files] li").Select(li => Normalize(li.TextContent)));
        Assert.Equal("conversation[last user turn].content → prompt", Text(cut, "#import-settings [data-column=prompt]"));
        Assert.Equal("conversation_hash → id", Text(cut, "#import-settings [data-column=id]"));
        Assert.Equal("Turn: last user turn", Text(cut, "[data-filter=turn]"));
        Assert.Equal("Language: English", Text(cut, "[data-filter=language]"));
        Assert.Equal("Toxic rows: dropped", Text(cut, "[data-filter=toxic]"));
        Assert.Equal("Redacted rows: kept", Text(cut, "[data-filter=redacted]"));
        Assert.Equal("Prompt length: 5–900 characters", Text(cut, "[data-filter=prompt-length]"));
        Assert.Equal("Duplicates: dropped", Text(cut, "[data-filter=dedupe]"));
        // Pairs have responses; an instruction pool has none to limit.
        Assert.Empty(cut.FindAll("[data-filter=response-length]"));
        Assert.StartsWith("Yes", Setting(cut, "resumed"));
        Assert.Equal("2025-02-01 09:00 UTC", Setting(cut, "started"));
        Assert.Equal("2025-02-01 09:03 UTC", Setting(cut, "completed"));
        Assert.Equal("3m 05s (this run)", Setting(cut, "duration"));
        Assert.Equal(Hash, Setting(cut, "sha256"));

        // Reasons, most frequent first, each with its count and example rows (position, detail, preview).
        var reasons = cut.FindAll("#import-rejections [data-reason]");
        Assert.Equal(["language", "empty-prompt"], reasons.Select(r => r.GetAttribute("data-reason")));
        Assert.Equal(["30", "7"], reasons.Select(r => r.QuerySelector("[data-testid=count]")!.TextContent));
        Assert.Contains("not in the language asked for", reasons[0].TextContent);
        var examples = reasons[0].QuerySelectorAll("tr[data-row]");
        Assert.Equal(["12", "57"], examples.Select(r => r.GetAttribute("data-row")));
        Assert.Contains("language is French", examples[0].TextContent);
        Assert.Equal("Bonjour, peux-tu", examples[0].QuerySelector("[data-testid=preview]")!.TextContent);
        Assert.Contains("2 of 30", reasons[0].QuerySelector("summary")!.TextContent);
        Assert.Equal("—", reasons[1].QuerySelector("[data-testid=preview]")!.TextContent);
        var duplicate = Assert.Single(cut.FindAll("#import-duplicates tr[data-row]"));
        Assert.Equal("40", duplicate.GetAttribute("data-row"));
        Assert.Equal("Hello there", duplicate.QuerySelector("[data-testid=preview]")!.TextContent);
        Assert.Equal("5", Text(cut, "#import-duplicates [data-testid=count]"));
        Assert.Empty(cut.FindAll("#import-no-report, #import-unreadable"));
    }

    [Fact]
    public async Task Render_ShowsMarkupInRejectedRowsAsText_WhenAPreviewHoldsAScript()
    {
        const string preview = "<script>alert('owned')</script><img src=x onerror=alert(1)>";
        const string detail = "<b>not bold</b> is too long";
        var report = new ImportReport
        {
            Format = "jsonl", Preset = "instructions", Files = [new ImportedFile("<i>prompts</i>.jsonl", 2048)],
            Columns = new Dictionary<string, string> { ["prompt"] = "<u>prompt</u>" }, Filters = new ImportFilters { Dedupe = true },
            RowsRead = 3, Imported = 2, Rejected = 1,
            Rejections = [new RejectionSummary(RejectionReasons.TooLong, 1, [new RowExample(1, detail, preview)])],
            DuplicateExamples = [], StartedAt = Started, CompletedAt = Started.AddSeconds(1),
        };
        var id = await AddDatasetAsync(new Dataset
        {
            Name = "<em>hostile</em>", Role = DatasetRole.InstructionPool, Preset = "instructions", Source = "<i>prompts</i>.jsonl",
            RowCount = 2, RejectedCount = 1, ImportReportJson = report.ToJson(), CreatedAt = Started,
        });

        var cut = Render<DatasetImportDetails>(p => p.Add(c => c.DatasetId, id));

        cut.WaitForAssertion(() => cut.Find("#import-rejections"));
        var card = cut.Find("#dataset-import-details");
        // The text is shown as typed; none of it became an element.
        Assert.Empty(card.QuerySelectorAll("script, img, b, i, u, em"));
        Assert.Equal(preview, card.QuerySelector("[data-reason=too-long] [data-testid=preview]")!.TextContent);
        Assert.Contains(detail, card.QuerySelector("[data-reason=too-long] tr[data-row='1']")!.TextContent);
        Assert.Contains("<i>prompts</i>.jsonl", Setting(cut, "files"));
        Assert.Equal("<u>prompt</u> → prompt", Text(cut, "#import-settings [data-column=prompt]"));
        Assert.Contains("<em>hostile</em>", card.QuerySelector("h3")!.TextContent);
        Assert.Contains("&lt;script&gt;", cut.Markup);
    }

    [Fact]
    public async Task Render_ShowsWhatIsKnownWithoutErrors_WhenTheDatasetHasNoReport()
    {
        // A row from before import reports were kept: counts and provenance, no report, no options.
        var id = await AddDatasetAsync(new Dataset
        {
            Name = "rewardbench (legacy)", Role = DatasetRole.Benchmark, Preset = "rewardbench", Source = "rewardbench.parquet",
            RowCount = 985, RejectedCount = 3, CreatedAt = Started,
        });

        var cut = Render<DatasetImportDetails>(p => p.Add(c => c.DatasetId, id));

        cut.WaitForAssertion(() => cut.Find("#import-no-report"));
        Assert.Equal(new[] { "—", "985", "3", "0" }, new[] { "rows-read", "imported", "rejected", "duplicates" }.Select(f => Text(cut, $"#import-counts [data-field={f}] dd")));
        Assert.Equal("rewardbench.parquet", Setting(cut, "source"));
        Assert.Equal("rewardbench", Setting(cut, "preset"));
        Assert.Equal("—", Setting(cut, "format"));
        Assert.Equal("—", Setting(cut, "files"));
        Assert.Equal("Not recorded", Setting(cut, "filters"));
        Assert.Equal("—", Setting(cut, "sha256"));
        Assert.Equal("2025-02-01 09:00 UTC", Setting(cut, "created"));
        Assert.Empty(cut.FindAll("[data-field=started], [data-field=resumed], #import-rejections, #import-unreadable"));
        Assert.Contains("3 rejected; the reasons were not recorded", cut.Find("#import-rejections-unknown").TextContent);
    }

    [Fact]
    public async Task Render_ShowsTheRequestedSettings_WhenOnlyTheImportOptionsWereStored()
    {
        var request = new ImportRequest
        {
            Name = "pairs", Source = new LocalFileSource("/data/pairs.csv"), Preset = ImportPreset.Pairs,
            Columns = new ColumnMapping { Prompt = "question", Chosen = "good" },
            Filters = new ImportFilters { MaxResponseLength = 5000 },
        };
        var id = await AddDatasetAsync(new Dataset
        {
            Name = "pairs", Role = DatasetRole.LabeledPairs, Preset = "pairs", Source = "/data/pairs.csv", RowCount = 10,
            OptionsJson = request.ToJson(), CreatedAt = Started,
        });

        var cut = Render<DatasetImportDetails>(p => p.Add(c => c.DatasetId, id));

        cut.WaitForAssertion(() => cut.Find("#import-no-report"));
        Assert.Equal("csv", Setting(cut, "format"));
        Assert.Equal("question → prompt", Text(cut, "#import-settings [data-column=prompt]"));
        Assert.Equal("good → responseA", Text(cut, "#import-settings [data-column=responseA]"));
        Assert.Equal($"Response length: at most {5000:N0} characters", Text(cut, "[data-filter=response-length]"));
        // Not set in the request: on, because labeled pairs are not a benchmark.
        Assert.Equal("Duplicates: dropped", Text(cut, "[data-filter=dedupe]"));
        // Only WildChat conversations have turns to choose from.
        Assert.Empty(cut.FindAll("[data-filter=turn]"));
    }

    [Fact]
    public async Task Render_SaysTheReportCannotBeRead_AndShowsTheRest_WhenItsJsonIsBroken()
    {
        var id = await AddDatasetAsync(new Dataset
        {
            Name = "broken", Role = DatasetRole.InstructionPool, Source = "a.jsonl", RowCount = 4, DuplicateCount = 1,
            ImportReportJson = "{\"format\": \"jsonl\", \"files\": [", CreatedAt = Started,
        });

        var cut = Render<DatasetImportDetails>(p => p.Add(c => c.DatasetId, id));

        cut.WaitForAssertion(() => Assert.Contains("The stored import report cannot be read", cut.Find("#import-unreadable").TextContent));
        Assert.Equal("4", Text(cut, "#import-counts [data-field=imported] dd"));
        Assert.Equal("1 dropped; no examples were recorded.", Text(cut, "#import-no-duplicates"));
    }

    [Fact]
    public async Task Render_ShowsTheSourceFormAndTheJoinedFiles_OfAnMtBenchHumanImport()
    {
        const string form = "two-file form: votes joined with the answers in 'human_judgment_answers.jsonl' (by question_id and model) and the questions in 'question.jsonl' (turn-1 text and category)";
        var report = new ImportReport
        {
            Format = "jsonl",
            Preset = "mtbench-human",
            SourceForm = form,
            Files =
            [
                new ImportedFile("human_judgments.jsonl", 191_272),
                new ImportedFile("human_judgment_answers.jsonl", 454_686, JoinedAs: "answers"),
                new ImportedFile("question.jsonl", 48_929, JoinedAs: "questions"),
            ],
            Columns = new Dictionary<string, string> { ["judge"] = "judge" },
            Filters = new ImportFilters { Dedupe = false },
            RowsRead = 3, Imported = 2, Rejected = 1,
            Rejections = [new RejectionSummary(RejectionReasons.MissingAnswer, 1, [new RowExample(2, "'answers.jsonl' has no answer by model 'm9' to question 81", "Q?")])],
            DuplicateExamples = [],
            StartedAt = Started,
            CompletedAt = Started.AddSeconds(1),
        };
        var id = await AddDatasetAsync(new Dataset
        {
            Name = "MT-Bench human", Role = DatasetRole.Benchmark, Preset = "mtbench-human", Source = "human_judgments.jsonl",
            RowCount = 2, RejectedCount = 1, ImportReportJson = report.ToJson(), Description = form, CreatedAt = Started,
        });

        var cut = Render<DatasetImportDetails>(p => p.Add(c => c.DatasetId, id));

        cut.WaitForAssertion(() => cut.Find("#import-settings"));
        Assert.Equal(form, Setting(cut, "source-form"));
        Assert.Equal(["human_judgments.jsonl (187 KB)", "human_judgment_answers.jsonl (444 KB; joined: answers)", "question.jsonl (47.8 KB; joined: questions)"],
            cut.FindAll("#import-settings [data-field=files] li").Select(li => Normalize(li.TextContent)));
        Assert.Contains("no answer by a voted model", Text(cut, "#import-rejections [data-reason=missing-answer]"));
    }

    private async Task<long> AddDatasetAsync(Dataset dataset)
    {
        await Database.AddAsync(Cancellation, dataset);
        return dataset.Id;
    }

    private static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string Text(IRenderedComponent<DatasetImportDetails> cut, string selector) => Normalize(cut.Find(selector).TextContent);

    private static string Setting(IRenderedComponent<DatasetImportDetails> cut, string field) =>
        Text(cut, $"#import-settings [data-field={field}] td");
}
