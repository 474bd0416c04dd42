using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;
using SelfTaught.Core.Import.Mapping;

namespace SelfTaught.Core.Tests.Import;

/// <summary>
/// The <c>mtbench-human</c> preset: the shared two-file copy of the turn-1 votes (real data, joined with its answers
/// and the MT-Bench questions), and schema-exact fixtures of <c>lmsys/mt_bench_human_judgments</c> as JSON lines and
/// parquet. One vote = one labeled pair, with the judge, models, turn, question id and category.
/// </summary>
public class MtBenchHumanImportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Votes => SharedData.File("mt_bench_human", "human_judgments.jsonl");

    private static ImportRequest Request(string path, string? answers = null, string? questions = null, ImportSource? source = null) =>
        ImportHarness.Request(path, ImportPreset.MtBenchHuman) with { AnswersPath = answers, QuestionsPath = questions, Source = source ?? new LocalFileSource(path) };

    [Fact]
    public async Task ImportNewAsync_OfTheSharedTwoFileForm_KeepsEveryVote_WithTheQuestionsTurn1AndTheModelsAnswers()
    {
        using var h = await ImportHarness.CreateAsync();
        var questions = File.ReadLines(SharedData.File("mt_bench", "question.jsonl")).Select(l => JsonNode.Parse(l)!)
            .ToDictionary(q => q["question_id"]!.GetValue<int>().ToString(), q => (Turn1: q["turns"]![0]!.GetValue<string>(), Category: q["category"]!.GetValue<string>()));
        var answers = File.ReadLines(SharedData.File("mt_bench_human", "human_judgment_answers.jsonl")).Select(l => JsonNode.Parse(l)!)
            .ToDictionary(a => (a["question_id"]!.GetValue<int>().ToString(), a["model"]!.GetValue<string>()), a => a["answer"]!.GetValue<string>());

        // The answers and questions files are found by default: beside the votes, and ../mt_bench/question.jsonl.
        var result = await h.Importer.ImportNewAsync(Request(Votes), cancellationToken: Ct);

        Assert.Equal((1689, 0, 0), (result.RowCount, result.RejectedCount, result.DuplicateCount));
        await using var db = h.Database.Create();
        var dataset = await db.Datasets.AsNoTracking().SingleAsync(Ct);
        Assert.Equal((DatasetRole.Benchmark, "mtbench-human", DatasetStatus.Ready), (dataset.Role, dataset.Preset, dataset.Status));
        Assert.StartsWith("two-file form: votes joined with the answers in 'human_judgment_answers.jsonl'", dataset.Description, StringComparison.Ordinal);
        var report = ImportReport.FromJson(dataset.ImportReportJson)!;
        Assert.Equal(dataset.Description, report.SourceForm);
        Assert.False(report.Filters.Dedupe);
        Assert.Equal(
            [("human_judgments.jsonl", (string?)null), ("human_judgment_answers.jsonl", "answers"), ("question.jsonl", "questions")],
            report.Files.Select(f => (f.Name, f.JoinedAs)));
        Assert.Equal([191_272L, 454_686L, 48_929L], report.Files.Select(f => f.Bytes));  // sizes from the READMEs

        var pairs = await db.LabeledPairs.AsNoTracking().OrderBy(p => p.RowIndex).ToListAsync(Ct);
        Assert.Equal(Enumerable.Range(0, 1689), pairs.Select(p => p.RowIndex));
        var gold = pairs.GroupBy(p => p.Gold).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal((656, 628, 405), (gold[GoldLabel.A], gold[GoldLabel.B], gold[GoldLabel.Tie]));
        Assert.Equal(1343, pairs.Count(p => p.Judge!.StartsWith("expert", StringComparison.Ordinal)));
        Assert.Equal(346, pairs.Count(p => p.Judge!.StartsWith("author", StringComparison.Ordinal)));
        Assert.Equal(65, pairs.Select(p => p.Judge).Distinct().Count());
        // The comparisons DESIGN §1 evaluates: turn 1, expert judges, non-tie.
        Assert.Equal(1048, pairs.Count(p => p.Turn == 1 && p.Judge!.StartsWith("expert", StringComparison.Ordinal) && p.Gold != GoldLabel.Tie));

        Assert.All(pairs, p =>
        {
            Assert.Equal(questions[p.SourceId!].Turn1, p.Prompt);
            Assert.Equal(questions[p.SourceId!].Category, p.Subset);
            Assert.Equal(answers[(p.SourceId!, p.ModelA!)], p.ResponseA);
            Assert.Equal(answers[(p.SourceId!, p.ModelB!)], p.ResponseB);
            Assert.Equal(1, p.Turn);
        });
        Assert.Equal(["coding", "extraction", "humanities", "math", "reasoning", "roleplay", "stem", "writing"],
            pairs.Select(p => p.Subset!).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(80, pairs.Select(p => p.SourceId).Distinct().Count());

        // The first line of the file: question 81, author_2, alpaca-13b vs gpt-3.5-turbo, model_b.
        Assert.Equal(("81", "author_2", "alpaca-13b", "gpt-3.5-turbo", GoldLabel.B), (pairs[0].SourceId, pairs[0].Judge, pairs[0].ModelA, pairs[0].ModelB, pairs[0].Gold));
        // README quirks, kept: llama-13b's empty answer to question 127 is a real answer ...
        var onEmpty = pairs.Where(p => p.SourceId == "127" && (p.ModelA == "llama-13b" || p.ModelB == "llama-13b")).ToList();
        Assert.NotEmpty(onEmpty);
        Assert.All(onEmpty, p => Assert.Equal("", p.ModelA == "llama-13b" ? p.ResponseA : p.ResponseB));
        // ... author_0's two tie votes on question 128 (one in each order) are two rows ...
        Assert.Equal(2, pairs.Count(p => p.SourceId == "128" && p.Judge == "author_0" && new[] { p.ModelA, p.ModelB }.Order().SequenceEqual(["claude-v1", "gpt-3.5-turbo"])));
        // ... and 17 votes compare two identical answers (e.g. gpt-4 and gpt-3.5-turbo on question 131): still votes.
        Assert.Equal(17, pairs.Count(p => p.ResponseA == p.ResponseB));
    }

    [Fact]
    public async Task ImportNewAsync_UsesExplicitAnswersAndQuestionsPaths_AndRejectsVotesWithoutAnswerOrQuestionOrWithAnUnknownWinner()
    {
        using var h = await ImportHarness.CreateAsync();
        var votes = h.WriteJsonLines("votes.jsonl", [
            new { question_id = 81, judge = "expert_1", model_a = "m1", model_b = "m2", winner = "model_a" },
            new { question_id = 81, judge = "expert_2", model_a = "m2", model_b = "m1", winner = "tie" },
            new { question_id = 81, judge = "expert_3", model_a = "m1", model_b = "m9", winner = "model_b" },           // m9 has no answer
            new { question_id = 99, judge = "expert_4", model_a = "m1", model_b = "m2", winner = "model_a" },          // no question 99
            new { question_id = 82, judge = "author_1", model_a = "m1", model_b = "m2", winner = "tie (inconsistent)" }, // not a human-split value
            new { question_id = 82, judge = "author_1", model_a = "m2", model_b = "m1", winner = "model_b" },
        ]);
        var answers = h.WriteJsonLines("my-answers.jsonl", [
            new { question_id = 81, model = "m1", answer = "Answer one." },
            new { question_id = 81, model = "m2", answer = "" },
            new { question_id = 82, model = "m1", answer = "Answer three." },
            new { question_id = 82, model = "m2", answer = "Answer four." },
        ]);
        var questions = h.WriteJsonLines("my-questions.jsonl", [
            new { question_id = 81, category = "writing", turns = new[] { "First question?", "Its follow-up." } },
            new { question_id = 82, category = "writing", turns = new[] { "Second question?", "Its follow-up." } },
        ]);

        var result = await h.Importer.ImportNewAsync(Request(votes, answers, questions), cancellationToken: Ct);

        Assert.Equal((3, 3, 0), (result.RowCount, result.RejectedCount, result.DuplicateCount));
        var rejections = result.Report!.Rejections.ToDictionary(r => r.Reason);
        Assert.Equal(2, Assert.Single(rejections[RejectionReasons.MissingAnswer].Examples).RowIndex);
        Assert.Equal("'my-answers.jsonl' has no answer by model 'm9' to question 81", rejections[RejectionReasons.MissingAnswer].Examples[0].Detail);
        Assert.Equal("question_id 99 is not in 'my-questions.jsonl'", Assert.Single(rejections[RejectionReasons.UnknownQuestion].Examples).Detail);
        Assert.Equal("winner 'tie (inconsistent)' is not model_a, model_b or tie", Assert.Single(rejections[RejectionReasons.UnknownLabel].Examples).Detail);
        await using var db = h.Database.Create();
        var pairs = await db.LabeledPairs.AsNoTracking().OrderBy(p => p.RowIndex).ToListAsync(Ct);
        Assert.Equal([0, 1, 5], pairs.Select(p => p.RowIndex));
        Assert.Equal(("First question?", "Answer one.", "", GoldLabel.A, "expert_1"), (pairs[0].Prompt, pairs[0].ResponseA, pairs[0].ResponseB, pairs[0].Gold, pairs[0].Judge));
        Assert.Equal(("", "Answer one.", GoldLabel.Tie), (pairs[1].ResponseA, pairs[1].ResponseB, pairs[1].Gold));
        Assert.Equal(("Second question?", "m2", "m1", GoldLabel.B, "82", "writing"), (pairs[2].Prompt, pairs[2].ModelA, pairs[2].ModelB, pairs[2].Gold, pairs[2].SourceId, pairs[2].Subset));
    }

    [Fact]
    public async Task CreateDatasetAsync_Fails_NamingTheMissingAnswersFileAndHowToGiveIt_StoringNothing()
    {
        using var h = await ImportHarness.CreateAsync();
        var votes = h.WriteJsonLines("human_judgments.jsonl", [new { question_id = 81, judge = "expert_1", model_a = "m1", model_b = "m2", winner = "model_a" }]);

        var byDefault = await Assert.ThrowsAsync<ImportException>(() => h.Importer.CreateDatasetAsync(Request(votes), Ct));
        var given = await Assert.ThrowsAsync<ImportException>(() => h.Importer.CreateDatasetAsync(Request(votes, answers: h.PathOf("nowhere.jsonl")), Ct));
        var upload = await Assert.ThrowsAsync<ImportException>(() =>
            h.Importer.CreateDatasetAsync(Request(votes, source: new UploadedFileSource(votes, "human_judgments.jsonl")), Ct));

        Assert.Contains($"the default '{h.PathOf(MtBenchHumanMapper.DefaultAnswersFile)}' (human_judgment_answers.jsonl beside the votes file) does not exist", byDefault.Message, StringComparison.Ordinal);
        Assert.Contains("Give its location with answersPath.", byDefault.Message, StringComparison.Ordinal);
        Assert.Equal($"The answers file '{h.PathOf("nowhere.jsonl")}' (answersPath) does not exist.", given.Message);
        Assert.Contains("An uploaded votes file has no folder of its own: give answersPath", upload.Message, StringComparison.Ordinal);
        await using var db = h.Database.Create();
        Assert.Equal(0, await db.Datasets.CountAsync(Ct));
    }

    [Fact]
    public async Task ImportNewAsync_Fails_WhenTheQuestionsFileIsMissing_OrTheAnswersFileContradictsItself()
    {
        using var h = await ImportHarness.CreateAsync();
        var votes = h.WriteJsonLines("votes.jsonl", [new { question_id = 81, judge = "expert_1", model_a = "m1", model_b = "m2", winner = "model_a" }]);
        var answers = h.WriteJsonLines("answers.jsonl", [
            new { question_id = 81, model = "m1", answer = "One." },
            new { question_id = 81, model = "m2", answer = "Two." },
            new { question_id = 81, model = "m1", answer = "Another one." },
        ]);
        var questions = h.WriteJsonLines("questions.jsonl", [new { question_id = 81, category = "writing", turns = new[] { "Q?", "F?" } }]);

        var noQuestions = await Assert.ThrowsAsync<ImportException>(() => h.Importer.ImportNewAsync(Request(votes, answers), cancellationToken: Ct));
        var twoAnswers = await Assert.ThrowsAsync<ImportException>(() => h.Importer.ImportNewAsync(Request(votes, answers, questions), cancellationToken: Ct));

        Assert.Contains($"the default '{MtBenchHumanMapper.DefaultQuestionsPath(votes)}' (../mt_bench/question.jsonl from the votes file's folder) does not exist. Give its location with questionsPath.",
            noQuestions.Message, StringComparison.Ordinal);
        Assert.Equal("The answers file 'answers.jsonl' has two different answers by model 'm1' to question 81 (rows 1 and 3); a vote could not tell which was judged.", twoAnswers.Message);
        await using var db = h.Database.Create();
        Assert.Equal(0, await db.Datasets.CountAsync(Ct));
    }

    [Fact]
    public async Task ImportNewAsync_MapsTheLmsysSchema_FromJsonLinesAndParquetIdentically_RejectingTurn2AndUnknownWinners()
    {
        using var h = await ImportHarness.CreateAsync();
        var rows = MtBenchHumanFixture.Sample();
        var jsonl = h.WriteText("human.jsonl", MtBenchHumanFixture.ToJsonLines(rows));
        var parquet = h.PathOf("human-00000-of-00001.parquet");
        await MtBenchHumanFixture.WriteParquetAsync(parquet, rows, rowGroupSize: 4, Ct);

        var fromJsonl = await h.Importer.ImportNewAsync(Request(jsonl), cancellationToken: Ct);
        var fromParquet = await h.Importer.ImportNewAsync(Request(parquet), cancellationToken: Ct);

        foreach (var result in new[] { fromJsonl, fromParquet })
        {
            Assert.Equal((4, 2, 0), (result.RowCount, result.RejectedCount, result.DuplicateCount));
            var rejections = result.Report!.Rejections.ToDictionary(r => r.Reason);
            var turn2 = Assert.Single(rejections[RejectionReasons.UnsupportedTurn].Examples);
            Assert.Equal(1, turn2.RowIndex);
            Assert.StartsWith("a turn-2 vote: it compares two whole conversations whose turn-1 answers differ", turn2.Detail, StringComparison.Ordinal);
            Assert.Equal("winner 'tie (inconsistent)' is not model_a, model_b or tie", Assert.Single(rejections[RejectionReasons.UnknownLabel].Examples).Detail);
            Assert.StartsWith("lmsys/mt_bench_human_judgments schema", result.Report.SourceForm, StringComparison.Ordinal);
            Assert.Equal("conversation_a[first user message].content", result.Report.Columns["prompt"]);
            Assert.Single(result.Report.Files);
        }
        Assert.Equal("parquet", fromParquet.Report!.Format);

        await using var db = h.Database.Create();
        var a = await db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == fromJsonl.DatasetId).OrderBy(p => p.RowIndex).ToListAsync(Ct);
        var b = await db.LabeledPairs.AsNoTracking().Where(p => p.DatasetId == fromParquet.DatasetId).OrderBy(p => p.RowIndex).ToListAsync(Ct);
        static object Key(LabeledPair p) => (p.RowIndex, p.Prompt, p.ResponseA, p.ResponseB, p.Gold, p.Judge, p.ModelA, p.ModelB, p.Turn, p.SourceId, p.Subset, p.MetadataJson);
        Assert.Equal(a.Select(Key), b.Select(Key));
        Assert.Equal([0, 2, 3, 5], a.Select(p => p.RowIndex));
        Assert.Equal(
            ("Compose a travel blog post about Hawaii.", "Aloha! Hawaii is...", "Hawaii trip: day one...", GoldLabel.A, "expert_0", "alpaca-13b", "gpt-3.5-turbo", 1, "81", "writing"),
            (a[0].Prompt, a[0].ResponseA, a[0].ResponseB, a[0].Gold, a[0].Judge, a[0].ModelA, a[0].ModelB, a[0].Turn, a[0].SourceId, a[0].Subset));
        Assert.Equal(("", "def majority(nums): ...", GoldLabel.Tie, "author_3", "coding"), (a[1].ResponseA, a[1].ResponseB, a[1].Gold, a[1].Judge, a[1].Subset));
        Assert.Equal(("请你担任英语翻译：衣带渐宽终不悔", GoldLabel.B, "roleplay"), (a[2].Prompt, a[2].Gold, a[2].Subset));
        Assert.Equal(("200", (string?)null), (a[3].SourceId, a[3].Subset));  // outside MT-Bench's numbering: category unknown
        Assert.All(a, p => Assert.Null(p.MetadataJson));                    // every column was mapped
        Assert.All(await db.Datasets.ToListAsync(Ct), d => Assert.Equal(DatasetRole.Benchmark, d.Role));
    }

    [Fact]
    public async Task ImportNewAsync_Fails_NamingConversationAAndTheColumnsPresent_WhenTheLmsysFileLacksIt()
    {
        using var h = await ImportHarness.CreateAsync();
        var rows = MtBenchHumanFixture.Sample();
        foreach (var row in rows) row.Remove("conversation_a");
        var path = h.WriteText("human.jsonl", MtBenchHumanFixture.ToJsonLines(rows));

        var error = await Assert.ThrowsAsync<ImportException>(() => h.Importer.ImportNewAsync(Request(path), cancellationToken: Ct));

        Assert.Equal(
            "'human.jsonl' has no column 'conversation_a', which preset 'mtbench-human' needs in the lmsys/mt_bench_human_judgments schema " +
            "(question_id, model_a, model_b, winner, judge, conversation_a, conversation_b, turn). Columns present: question_id, model_a, model_b, winner, judge, conversation_b, turn.",
            error.Message);
        await using var db = h.Database.Create();
        Assert.Equal(0, await db.Datasets.CountAsync(Ct));
    }

    [Fact]
    public async Task ImportNewAsync_TakesCategoriesFromAGivenQuestionsFile_AndRefusesAnAnswersFile_ForTheLmsysSchema()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteText("human.jsonl", MtBenchHumanFixture.ToJsonLines(MtBenchHumanFixture.Sample()));
        var questions = h.WriteJsonLines("questions.jsonl", [new { question_id = 81, category = "travel", turns = new[] { "Q?", "F?" } }]);

        var withQuestions = await h.Importer.ImportNewAsync(Request(path, questions: questions), cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<ImportException>(() => h.Importer.CreateDatasetAsync(Request(path, answers: questions), Ct));

        await using var db = h.Database.Create();
        var subsets = await db.LabeledPairs.Where(p => p.DatasetId == withQuestions.DatasetId).OrderBy(p => p.RowIndex).Select(p => p.Subset).ToListAsync(Ct);
        Assert.Equal(["travel", null, null, null], subsets);
        Assert.EndsWith("categories from 'questions.jsonl'", withQuestions.Report!.SourceForm, StringComparison.Ordinal);
        Assert.Equal("'human.jsonl' holds the conversations (the lmsys/mt_bench_human_judgments schema), so the answers come from them; leave answersPath out.", error.Message);
    }

    [Fact]
    public void Validate_RefusesJoinedFilePaths_ForOtherPresets_AndColumnMappings_ForMtBenchHuman()
    {
        var other = Assert.Throws<ImportException>(() => (ImportHarness.Request("pairs.jsonl", ImportPreset.Pairs) with { AnswersPath = "a.jsonl" }).Validate());
        var columns = Assert.Throws<ImportException>(() => ImportHarness.Request("votes.jsonl", ImportPreset.MtBenchHuman, columns: new ColumnMapping { Prompt = "q" }).Validate());

        Assert.StartsWith("answersPath and questionsPath name the files joined into MT-Bench human votes; preset 'pairs' reads no such files.", other.Message, StringComparison.Ordinal);
        Assert.StartsWith("Preset 'mtbench-human' reads the fixed columns", columns.Message, StringComparison.Ordinal);
        Assert.Equal(ImportPreset.MtBenchHuman, ImportPresets.Parse("mtbench-human"));
        Assert.Equal(DatasetRole.Benchmark, ImportPresets.DefaultRole(ImportPreset.MtBenchHuman));
    }

    [Fact]
    public void CategoryOf_AgreesWithEveryQuestionOfTheSharedQuestionsFile()
    {
        var questions = File.ReadLines(SharedData.File("mt_bench", "question.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();

        Assert.Equal(80, questions.Count);
        Assert.All(questions, q => Assert.Equal(q["category"]!.GetValue<string>(), MtBenchHumanMapper.CategoryOf(q["question_id"]!.GetValue<long>())));
        Assert.Null(MtBenchHumanMapper.CategoryOf(80));
        Assert.Null(MtBenchHumanMapper.CategoryOf(161));
    }

    [Theory]
    [InlineData("model_a", GoldLabel.A)]
    [InlineData("model_b", GoldLabel.B)]
    [InlineData("tie", GoldLabel.Tie)]
    [InlineData(" Model_B ", GoldLabel.B)]
    [InlineData("tie (inconsistent)", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void ParseWinner_MapsTheHumanSplitsValues_AndNothingElse(string? winner, GoldLabel? expected) =>
        Assert.Equal(expected, MtBenchHumanMapper.ParseWinner(winner));
}
