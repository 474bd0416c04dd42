using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace SelfTaught.Core.Tests.Import;

/// <summary>
/// Votes in the published schema of <c>lmsys/mt_bench_human_judgments</c> (dataset card <c>dataset_info.features</c>:
/// question_id int64, model_a, model_b, winner, judge strings, conversation_a and conversation_b lists of
/// {content, role} structs, turn int64), written as parquet with Parquet.Net and as JSON lines. As published, each
/// conversation holds both turns (user, assistant, user, assistant) whatever turn the vote is about.
/// </summary>
internal static class MtBenchHumanFixture
{
    public static ParquetSchema Schema { get; } = new(
        new DataField<long>("question_id"),
        new DataField<string>("model_a", true),
        new DataField<string>("model_b", true),
        new DataField<string>("winner", true),
        new DataField<string>("judge", true),
        new ListField("conversation_a", new StructField("element", new DataField<string>("content", true), new DataField<string>("role", true))),
        new ListField("conversation_b", new StructField("element", new DataField<string>("content", true), new DataField<string>("role", true))),
        new DataField<long>("turn"));

    /// <summary>One vote; the conversations are question 1, each model's answer 1, question 2, each model's answer 2.</summary>
    public static Dictionary<string, object?> Vote(
        long questionId, string modelA, string modelB, string winner, string judge, long turn,
        string question1, string answerA1, string answerB1, string question2 = "Follow-up question.", string? answerA2 = null, string? answerB2 = null) => new()
    {
        ["question_id"] = questionId,
        ["model_a"] = modelA,
        ["model_b"] = modelB,
        ["winner"] = winner,
        ["judge"] = judge,
        ["conversation_a"] = Conversation(question1, answerA1, question2, answerA2 ?? $"{modelA} follow-up answer"),
        ["conversation_b"] = Conversation(question1, answerB1, question2, answerB2 ?? $"{modelB} follow-up answer"),
        ["turn"] = turn,
    };

    private static List<Dictionary<string, object?>> Conversation(string q1, string a1, string q2, string a2) =>
    [
        new() { ["content"] = q1, ["role"] = "user" },
        new() { ["content"] = a1, ["role"] = "assistant" },
        new() { ["content"] = q2, ["role"] = "user" },
        new() { ["content"] = a2, ["role"] = "assistant" },
    ];

    /// <summary>
    /// Six votes: a turn-1 win for A, a turn-2 vote on the same pair, a tie on an empty answer (llama-13b on 127, as in
    /// the real data) by an author, a win for B with non-ASCII text, a winner value the human split does not use, and a
    /// question outside MT-Bench's numbering.
    /// </summary>
    public static List<Dictionary<string, object?>> Sample() =>
    [
        Vote(81, "alpaca-13b", "gpt-3.5-turbo", "model_a", "expert_0", 1, "Compose a travel blog post about Hawaii.", "Aloha! Hawaii is...", "Hawaii trip: day one..."),
        Vote(81, "alpaca-13b", "gpt-3.5-turbo", "model_b", "expert_0", 2, "Compose a travel blog post about Hawaii.", "Aloha! Hawaii is...", "Hawaii trip: day one...",
            "Rewrite your previous response. Start every sentence with the letter A."),
        Vote(127, "llama-13b", "vicuna-13b-v1.2", "tie", "author_3", 1, "Write a function to find the majority element.", "", "def majority(nums): ..."),
        Vote(95, "claude-v1", "gpt-4", "model_b", "expert_12", 1, "请你担任英语翻译：衣带渐宽终不悔", "I will translate...", "As my belt grows looser, I never regret..."),
        Vote(101, "gpt-4", "claude-v1", "tie (inconsistent)", "expert_3", 1, "Imagine you are in a race.", "You are in second place.", "Second place."),
        Vote(200, "gpt-4", "llama-13b", "model_a", "expert_7", 1, "A question outside MT-Bench.", "A good answer.", "A bad answer."),
    ];

    /// <summary>Writes rows as parquet, <paramref name="rowGroupSize"/> rows per row group.</summary>
    public static async Task WriteParquetAsync(string path, IReadOnlyList<Dictionary<string, object?>> rows, int rowGroupSize, CancellationToken cancellationToken)
    {
        await using var file = File.Create(path);
        for (var start = 0; start < rows.Count; start += rowGroupSize)
        {
            var group = rows.Skip(start).Take(rowGroupSize).Select(r => (IDictionary<string, object?>)r).ToList();
            await ParquetSerializer.SerializeUntypedAsync(group, Schema, file, new ParquetOptions { Append = start > 0 }, cancellationToken: cancellationToken);
        }
    }

    /// <summary>Rows as JSON lines, the layout of the Hub's JSON export.</summary>
    public static string ToJsonLines(IEnumerable<Dictionary<string, object?>> rows) =>
        string.Concat(rows.Select(r => JsonSerializer.Serialize(r) + "\n"));
}
