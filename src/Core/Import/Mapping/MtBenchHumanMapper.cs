using System.Text.Json.Nodes;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import.Readers;
using static System.FormattableString;

namespace SelfTaught.Core.Import.Mapping;

/// <summary>
/// MT-Bench human pairwise votes (Zheng et al., 2023; <c>lmsys/mt_bench_human_judgments</c>, split <c>human</c>): every
/// vote becomes one labeled pair — prompt = the question's turn-1 text, A/B = model_a's/model_b's turn-1 answers,
/// gold A/B/Tie from <c>winner</c> (<c>model_a</c>/<c>model_b</c>/<c>tie</c>), judge, models, turn, question id and the
/// question's category as subset. Ties and author votes are kept; evaluations filter (turn 1, expert, non-tie).
/// Responses are kept verbatim, even empty (llama-13b on question 127) or identical to each other (17 real votes).
/// <para>Two source forms, told apart by their columns:</para>
/// <list type="bullet">
/// <item>The published schema (<c>question_id, model_a, model_b, winner, judge, conversation_a, conversation_b, turn</c>):
/// the prompt is the first user message and each response the first assistant message of its conversation. Turn-2
/// votes are rejected (<see cref="RejectionReasons.UnsupportedTurn"/>): they compare whole two-turn conversations
/// whose first answers already differ between the models, so no single prompt is shared by the two responses.
/// Categories come from <see cref="ImportRequest.QuestionsPath"/> when given, else from MT-Bench's fixed numbering.</item>
/// <item>The two-file form (<c>question_id, judge, model_a, model_b, winner</c>, turn-1 votes only): joined with an
/// answers file (<c>question_id, model, answer</c>) and the questions file (<c>question_id, category, turns</c>), both
/// read whole first (480 and 80 rows); the votes stream. A vote without an answer or question is rejected.</item>
/// </list>
/// </summary>
internal sealed class MtBenchHumanMapper : RowMapper
{
    /// <summary>Default answers file name, beside the votes file.</summary>
    public const string DefaultAnswersFile = "human_judgment_answers.jsonl";

    private const string PresetName = "mtbench-human";
    private const string ConversationA = "conversation_a", ConversationB = "conversation_b";
    private const string Answers = "answers", Questions = "questions";
    private static readonly string[] VoteColumns = ["question_id", "model_a", "model_b", "winner", "judge"];

    private bool? _conversations;
    private Dictionary<(string QuestionId, string Model), string>? _answers;
    private Dictionary<string, Question>? _questions;
    private string? _answersName, _questionsName;

    private sealed record Question(string Turn1, string? Category);

    /// <summary>The default questions file of a votes file: <c>../mt_bench/question.jsonl</c> from its folder (the shared data layout).</summary>
    public static string DefaultQuestionsPath(string votesPath) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(votesPath))!, "..", "mt_bench", "question.jsonl"));

    /// <summary>The default answers file of a votes file: <see cref="DefaultAnswersFile"/> in its folder.</summary>
    public static string DefaultAnswersPath(string votesPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(votesPath))!, DefaultAnswersFile);

    /// <summary>Whether columns are the published schema (conversations) rather than the two-file form.</summary>
    public static bool HasConversations(IReadOnlyList<string> columns) =>
        RowText.HasColumn(columns, ConversationA) || RowText.HasColumn(columns, ConversationB);

    public override bool JoinsFiles => true;

    public override string? SourceForm => _conversations switch
    {
        true => "lmsys/mt_bench_human_judgments schema: prompt and answers from conversation_a/conversation_b (turn-1 votes; turn-2 votes rejected); " +
                (_questionsName is null ? "categories from MT-Bench's question numbering" : $"categories from '{_questionsName}'"),
        false => $"two-file form: votes joined with the answers in '{_answersName}' (by question_id and model) and the questions in '{_questionsName}' (turn-1 text and category)",
        null => null,
    };

    public override IReadOnlyList<JoinedFile> ResolveJoinedFiles(IReadOnlyList<string> columns, string fileName, string filePath, ImportRequest request)
    {
        if (columns.Count == 0) return [];
        var conversations = HasConversations(columns);
        CheckColumns(columns, fileName, conversations);
        if (conversations)
        {
            if (request.AnswersPath is not null)
                throw new ImportException(
                    $"'{fileName}' holds the conversations (the lmsys/mt_bench_human_judgments schema), so the answers come from them; leave answersPath out.");
            return request.QuestionsPath is { } given ? [new JoinedFile(Questions, Existing(given, "questionsPath", "questions"))] : [];
        }

        var answers = request.AnswersPath is { } answersPath
            ? Existing(answersPath, "answersPath", "answers")
            : Defaulted(DefaultAnswersPath(filePath), $"{DefaultAnswersFile} beside the votes file", "answers", "answersPath", fileName, request.Source);
        var questions = request.QuestionsPath is { } questionsPath
            ? Existing(questionsPath, "questionsPath", "questions")
            : Defaulted(DefaultQuestionsPath(filePath), "../mt_bench/question.jsonl from the votes file's folder", "questions", "questionsPath", fileName, request.Source);
        return [new JoinedFile(Answers, answers), new JoinedFile(Questions, questions)];
    }

    public override async Task LoadJoinedFilesAsync(IReadOnlyList<JoinedFile> files, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            if (file.JoinedAs == Answers)
            {
                _answers = await LoadAnswersAsync(file.Path, cancellationToken);
                _answersName = Path.GetFileName(file.Path);
            }
            else if (file.JoinedAs == Questions)
            {
                _questions = await LoadQuestionsAsync(file.Path, cancellationToken);
                _questionsName = Path.GetFileName(file.Path);
            }
        }
    }

    public override void Bind(IReadOnlyList<string> columns, string fileName)
    {
        var conversations = HasConversations(columns);
        CheckColumns(columns, fileName, conversations);
        if (_conversations is { } first && first != conversations)
            throw new ImportException(
                $"'{fileName}' is in the {FormName(conversations)}, but the first file was in the {FormName(first)}; import them separately.");
        if (!conversations && (_answers is null || _questions is null))
            throw new ImportException($"'{fileName}' is in the two-file form, but no answers and questions files were read for it.");
        _conversations = conversations;

        Resolved.Clear();
        Resolved["id"] = "question_id";
        Resolved["modelA"] = "model_a";
        Resolved["modelB"] = "model_b";
        Resolved["gold"] = "winner (model_a → A, model_b → B, tie → Tie)";
        Resolved["judge"] = "judge";
        if (conversations)
        {
            Resolved["prompt"] = $"{ConversationA}[first user message].content";
            Resolved["responseA"] = $"{ConversationA}[first assistant message].content";
            Resolved["responseB"] = $"{ConversationB}[first assistant message].content";
            Resolved["turn"] = "turn";
            Resolved["subset"] = _questionsName is null ? "category of question_id (MT-Bench numbering)" : $"{_questionsName}: category";
        }
        else
        {
            Resolved["prompt"] = $"{_questionsName}: turns[0] by question_id";
            Resolved["responseA"] = $"{_answersName}: answer by (question_id, model_a)";
            Resolved["responseB"] = $"{_answersName}: answer by (question_id, model_b)";
            Resolved["subset"] = $"{_questionsName}: category";
            if (RowText.HasColumn(columns, "turn")) Resolved["turn"] = "turn";
        }
    }

    public override RowOutcome Map(JsonObject row)
    {
        var questionId = RowText.Text(Take(row, "question_id"))?.Trim();
        var modelA = RowText.Text(Take(row, "model_a"))?.Trim();
        var modelB = RowText.Text(Take(row, "model_b"))?.Trim();
        var judge = RowText.Text(Take(row, "judge"))?.Trim();
        var winnerNode = Take(row, "winner");
        var turnNode = Take(row, "turn");
        foreach (var (column, value) in new[] { ("question_id", questionId), ("model_a", modelA), ("model_b", modelB), ("judge", judge) })
            if (string.IsNullOrEmpty(value))
                return new Rejection(RejectionReasons.MissingValue, $"'{column}' is missing or empty");

        var winner = RowText.Text(winnerNode);
        if (ParseWinner(winner) is not { } gold)
            return new Rejection(RejectionReasons.UnknownLabel,
                winner is null ? "'winner' is missing" : $"winner '{winner}' is not model_a, model_b or tie");

        if (turnNode is not null)
        {
            if (RowText.Integer(turnNode) is not { } n)
                return new Rejection(RejectionReasons.MissingValue, $"turn '{RowText.Text(turnNode)}' is not a whole number");
            if (n != 1)
                return new Rejection(RejectionReasons.UnsupportedTurn, _conversations == true
                    ? Invariant($"a turn-{n} vote: it compares two whole conversations whose turn-1 answers differ, so it has no single prompt; only turn-1 votes are imported")
                    : Invariant($"a turn-{n} vote, but the answers file holds turn-1 answers; only turn-1 votes are imported"));
        }
        else if (_conversations == true)
        {
            return new Rejection(RejectionReasons.MissingValue, "'turn' is missing");
        }

        return _conversations == true
            ? FromConversations(row, questionId!, modelA!, modelB!, judge!, gold)
            : FromJoin(row, questionId!, modelA!, modelB!, judge!, gold);
    }

    /// <summary>The gold label a <c>winner</c> value means; null for any other value.</summary>
    public static GoldLabel? ParseWinner(string? winner) => winner?.Trim().ToLowerInvariant() switch
    {
        "model_a" => GoldLabel.A,
        "model_b" => GoldLabel.B,
        "tie" => GoldLabel.Tie,
        _ => null,
    };

    /// <summary>
    /// The category of an MT-Bench question by its id: 81–160 in blocks of ten (writing, roleplay, reasoning, math,
    /// coding, extraction, stem, humanities), as in FastChat's <c>question.jsonl</c>; null outside that range.
    /// </summary>
    public static string? CategoryOf(long questionId) => questionId is >= 81 and <= 160
        ? Categories[(int)(questionId - 81) / 10]
        : null;

    private static readonly string[] Categories = ["writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem", "humanities"];

    private RowOutcome FromConversations(JsonObject row, string questionId, string modelA, string modelB, string judge, GoldLabel gold)
    {
        var a = FirstExchange(Take(row, ConversationA), ConversationA);
        var b = FirstExchange(Take(row, ConversationB), ConversationB);
        if (a.Problem is { } problemA) return problemA;
        if (b.Problem is { } problemB) return problemB;
        if (!string.Equals(a.Question, b.Question, StringComparison.Ordinal))
            return Rejection.Of(RejectionReasons.TranscriptMismatch,
                $"{ConversationA} and {ConversationB} start with different user messages, so they do not answer the same question", a.Question);

        var category = _questions is not null
            ? (_questions.TryGetValue(questionId, out var question) ? question.Category : null)
            : long.TryParse(questionId, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var id) ? CategoryOf(id) : null;
        return new PairDraft(a.Question, a.Answer, b.Answer, gold, category, questionId, Turn: 1, modelA, modelB, Rest(row),
            Judge: judge, VerbatimResponses: true);
    }

    private RowOutcome FromJoin(JsonObject row, string questionId, string modelA, string modelB, string judge, GoldLabel gold)
    {
        if (!_questions!.TryGetValue(questionId, out var question))
            return new Rejection(RejectionReasons.UnknownQuestion, $"question_id {questionId} is not in '{_questionsName}'");
        foreach (var model in (string[])[modelA, modelB])
            if (!_answers!.ContainsKey((questionId, model)))
                return Rejection.Of(RejectionReasons.MissingAnswer, $"'{_answersName}' has no answer by model '{model}' to question {questionId}", question.Turn1);
        return new PairDraft(question.Turn1, _answers![(questionId, modelA)], _answers[(questionId, modelB)], gold, question.Category, questionId,
            Turn: 1, modelA, modelB, Rest(row), Judge: judge, VerbatimResponses: true);
    }

    /// <summary>The first user message and the first assistant message after it, or why there are none.</summary>
    private static (string? Question, string? Answer, Rejection? Problem) FirstExchange(JsonNode? conversation, string column)
    {
        if (conversation is not JsonArray messages)
            return (null, null, new Rejection(RejectionReasons.MissingValue, $"'{column}' is {(conversation is null ? "missing" : "not a list of messages")}"));
        string? question = null;
        foreach (var message in messages.OfType<JsonObject>())
        {
            var role = RowText.Text(RowText.Get(message, "role"))?.Trim();
            var content = RowText.Get(message, "content");
            if (question is null && string.Equals(role, "user", StringComparison.OrdinalIgnoreCase))
            {
                if (RowText.Text(content) is not { } text)
                    return (null, null, new Rejection(RejectionReasons.MissingValue, $"the first user message of '{column}' has no text content"));
                question = text;
            }
            else if (question is not null && string.Equals(role, "assistant", StringComparison.OrdinalIgnoreCase))
            {
                return RowText.Text(content) is { } answer
                    ? (question, answer, null)
                    : (null, null, Rejection.Of(RejectionReasons.MissingValue, $"the first assistant message of '{column}' has no text content", question));
            }
        }
        return question is null
            ? (null, null, new Rejection(RejectionReasons.NoUserTurn, $"'{column}' has {messages.Count} messages and none by the user"))
            : (null, null, Rejection.Of(RejectionReasons.MissingAnswer, $"'{column}' has no assistant message after the first user message", question));
    }

    private static void CheckColumns(IReadOnlyList<string> columns, string fileName, bool conversations)
    {
        string[] needed = conversations ? [.. VoteColumns, ConversationA, ConversationB, "turn"] : VoteColumns;
        var missing = needed.Where(c => !RowText.HasColumn(columns, c)).ToList();
        if (missing.Count == 0) return;
        throw new ImportException(
            $"'{fileName}' has no {(missing.Count == 1 ? "column" : "columns")} {string.Join(", ", missing.Select(m => $"'{m}'"))}, which preset '{PresetName}' needs " +
            $"in the {FormName(conversations)} ({string.Join(", ", needed)}). Columns present: {(columns.Count == 0 ? "(none)" : string.Join(", ", columns))}.");
    }

    private static string FormName(bool conversations) => conversations
        ? "lmsys/mt_bench_human_judgments schema"
        : "two-file form (votes joined with answers and questions)";

    private static string Existing(string path, string option, string what)
    {
        if (Directory.Exists(path)) throw new ImportException($"The {what} file '{path}' ({option}) is a folder, not a file.");
        if (!File.Exists(path)) throw new ImportException($"The {what} file '{path}' ({option}) does not exist.");
        return path;
    }

    private static string Defaulted(string path, string rule, string what, string option, string votesName, ImportSource source)
    {
        if (File.Exists(path)) return path;
        var hint = source switch
        {
            UploadedFileSource => $" An uploaded votes file has no folder of its own: give {option} (and the other joined file) as paths on the server, or import the votes file by its server path.",
            HubSource => $" A Hub download has no such neighbours: give {option} as a path on the server.",
            _ => $" Give its location with {option}.",
        };
        throw new ImportException(
            $"'{votesName}' is MT-Bench votes in the two-file form (no {ConversationA}/{ConversationB} columns), which joins a {what} file; " +
            $"the default '{path}' ({rule}) does not exist.{hint}");
    }

    private static async Task<Dictionary<(string, string), string>> LoadAnswersAsync(string path, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(path);
        var answers = new Dictionary<(string, string), string>();
        var lines = new Dictionary<(string, string), long>();
        await foreach (var (index, fields) in ReadWholeAsync(path, "answers", ["question_id", "model", "answer"], cancellationToken))
        {
            var questionId = RowText.Text(RowText.Get(fields, "question_id"))?.Trim();
            var model = RowText.Text(RowText.Get(fields, "model"))?.Trim();
            // An empty answer is a real answer (llama-13b on question 127): only a missing one is an error.
            var answer = RowText.Text(RowText.Get(fields, "answer"));
            if (string.IsNullOrEmpty(questionId) || string.IsNullOrEmpty(model) || answer is null)
                throw new ImportException(Invariant($"Row {index + 1} of the answers file '{name}' lacks a question_id, model or answer text."));
            if (answers.TryGetValue((questionId, model), out var earlier))
            {
                if (!string.Equals(earlier, answer, StringComparison.Ordinal))
                    throw new ImportException(Invariant(
                        $"The answers file '{name}' has two different answers by model '{model}' to question {questionId} (rows {lines[(questionId, model)] + 1} and {index + 1}); a vote could not tell which was judged."));
                continue;
            }
            answers[(questionId, model)] = answer;
            lines[(questionId, model)] = index;
        }
        if (answers.Count == 0) throw new ImportException($"The answers file '{name}' holds no answers.");
        return answers;
    }

    private static async Task<Dictionary<string, Question>> LoadQuestionsAsync(string path, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(path);
        var questions = new Dictionary<string, Question>(StringComparer.Ordinal);
        await foreach (var (index, fields) in ReadWholeAsync(path, "questions", ["question_id", "turns"], cancellationToken))
        {
            var questionId = RowText.Text(RowText.Get(fields, "question_id"))?.Trim();
            if (string.IsNullOrEmpty(questionId))
                throw new ImportException(Invariant($"Row {index + 1} of the questions file '{name}' has no question_id."));
            if (RowText.Get(fields, "turns") is not JsonArray { Count: > 0 } turns || RowText.Text(turns[0]) is not { } turn1 || string.IsNullOrWhiteSpace(turn1))
                throw new ImportException(Invariant($"Question {questionId} (row {index + 1}) of the questions file '{name}' has no turn-1 text in turns[0]."));
            var question = new Question(turn1, RowText.Text(RowText.Get(fields, "category"))?.Trim() is { Length: > 0 } category ? category : null);
            if (!questions.TryAdd(questionId, question) && questions[questionId] != question)
                throw new ImportException($"The questions file '{name}' has question {questionId} twice, with different text or category.");
        }
        if (questions.Count == 0) throw new ImportException($"The questions file '{name}' holds no questions.");
        return questions;
    }

    /// <summary>Every row of a joined file; an unreadable row fails the import, since votes would silently lose their answers.</summary>
    private static async IAsyncEnumerable<(long Index, JsonObject Fields)> ReadWholeAsync(
        string path, string what, string[] required, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(path);
        ImportFormat format;
        try
        {
            format = ImportFormats.FromFileName(path);
        }
        catch (ImportException ex)
        {
            throw new ImportException($"The {what} file: {ex.Message}", ex);
        }
        await using var table = await SourceReader.OpenAsync(path, format, name, cancellationToken);
        var missing = required.Where(c => !RowText.HasColumn(table.Columns, c)).ToList();
        if (table.Columns.Count > 0 && missing.Count > 0)
            throw new ImportException(
                $"The {what} file '{name}' has no {(missing.Count == 1 ? "column" : "columns")} {string.Join(", ", missing.Select(m => $"'{m}'"))} " +
                $"(it needs {string.Join(", ", required)}). Columns present: {string.Join(", ", table.Columns)}.");
        await foreach (var row in table.ReadRowsAsync(cancellationToken))
        {
            if (row.Fields is null)
                throw new ImportException(Invariant($"Row {row.Index + 1} of the {what} file '{name}' cannot be read ({row.ErrorDetail ?? row.ErrorReason}); fix the file and import again."));
            yield return (row.Index, row.Fields);
        }
    }
}
