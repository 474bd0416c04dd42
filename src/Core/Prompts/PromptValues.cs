namespace SelfTaught.Core.Prompts;

/// <summary>
/// Placeholder values for each built-in template family, for <see cref="PromptText.Render"/>. The names are spelled as
/// the paper prints them: Figs. 2 and 10 write <c>{Instruction}</c> and <c>{Baseline Response}</c>, Figs. 7 and 8
/// <c>{instruction}</c>, <c>{response A}</c> and <c>{response B}</c>. Edited copies of a template keep its names.
/// </summary>
public static class PromptValues
{
    /// <summary>Values for <see cref="PromptLibrary.InstructionAnalysis"/> (Fig. 7).</summary>
    public static IReadOnlyDictionary<string, string> InstructionAnalysis(string instruction) =>
        new Dictionary<string, string> { ["instruction"] = instruction };

    /// <summary>Values for <see cref="PromptLibrary.ResponseGeneration"/>: the instruction x, answered as usual to get y_w.</summary>
    public static IReadOnlyDictionary<string, string> ResponseGeneration(string instruction) =>
        new Dictionary<string, string> { ["instruction"] = instruction };

    /// <summary>Values for <see cref="PromptLibrary.PairSynthesis"/> (Fig. 2): the instruction x and its baseline response y_w.</summary>
    public static IReadOnlyDictionary<string, string> PairSynthesis(string instruction, string baselineResponse) =>
        new Dictionary<string, string> { ["Instruction"] = instruction, ["Baseline Response"] = baselineResponse };

    /// <summary>Values for <see cref="PromptLibrary.WorseResponseRewrite"/> (Fig. 10): the instruction x and the response y_w to make worse.</summary>
    public static IReadOnlyDictionary<string, string> WorseResponseRewrite(string instruction, string baselineResponse) =>
        new Dictionary<string, string> { ["Instruction"] = instruction, ["Baseline Response"] = baselineResponse };

    /// <summary>Values for <see cref="PromptLibrary.JudgePairwise"/> (Fig. 8): the instruction and the responses shown as A and B.</summary>
    public static IReadOnlyDictionary<string, string> JudgePairwise(string instruction, string responseA, string responseB) =>
        new Dictionary<string, string> { ["instruction"] = instruction, ["response A"] = responseA, ["response B"] = responseB };
}
