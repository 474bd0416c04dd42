using static System.FormattableString;

namespace SelfTaught.Core.Experiments;

/// <summary>
/// What a stage will cost before it starts: model calls, prompt tokens (estimated from the rendered prompts' lengths)
/// and the completion-token ceiling (calls × max_tokens; real completions are usually shorter).
/// </summary>
/// <param name="Calls">Model requests the stage will make (an <c>n</c>-batched request counts once).</param>
/// <param name="PromptTokens">Estimated prompt tokens over all calls.</param>
/// <param name="MaxCompletionTokens">Upper bound of completion tokens: each completion's max_tokens.</param>
/// <param name="Items">Items the stage will process (pairs, instructions).</param>
/// <param name="Notes">How the estimate was made and what it leaves out, for display.</param>
public sealed record CostEstimate(long Calls, long PromptTokens, long MaxCompletionTokens, long Items, IReadOnlyList<string> Notes)
{
    /// <summary>Characters per token assumed by <see cref="EstimateTokens(string?)"/> (a common rule of thumb for English text).</summary>
    public const double CharactersPerToken = 4.0;

    /// <summary>Estimated tokens of <paramref name="text"/>: its length / <see cref="CharactersPerToken"/>, rounded up.</summary>
    public static int EstimateTokens(string? text) => string.IsNullOrEmpty(text) ? 0 : (int)Math.Ceiling(text.Length / CharactersPerToken);

    /// <summary>Estimated tokens of a text of <paramref name="characters"/> characters.</summary>
    public static long EstimateTokens(long characters) => characters <= 0 ? 0 : (long)Math.Ceiling(characters / CharactersPerToken);

    /// <summary>One line for the UI, e.g. "1,234 calls, ~2.1M prompt tokens, ≤ 5.1M completion tokens".</summary>
    public string Summary() => Invariant($"{Items:N0} items: {Calls:N0} calls, about {PromptTokens:N0} prompt tokens, at most {MaxCompletionTokens:N0} completion tokens");
}
