using System.Text.RegularExpressions;

namespace SelfTaught.SimBackend;

/// <summary>
/// The simulator's token approximation: one token per whitespace-separated word (the word with the whitespace that
/// follows it). Deterministic; used for usage numbers, <c>max_tokens</c> truncation, streaming chunks and latency.
/// </summary>
public static partial class SimTokenizer
{
    /// <summary>Tokens added per message for the role and separators when counting prompt tokens.</summary>
    public const int TokensPerMessage = 4;

    /// <summary>Number of tokens in a text (0 for empty or blank text).</summary>
    public static int CountTokens(string? text) => string.IsNullOrEmpty(text) ? 0 : Piece().Count(text);

    /// <summary>Prompt tokens of a conversation: the tokens of every message plus <see cref="TokensPerMessage"/> each.</summary>
    public static int CountPromptTokens(IEnumerable<string> messageContents) =>
        messageContents.Sum(c => CountTokens(c) + TokensPerMessage);

    /// <summary>The text cut into tokens; concatenating them gives the text back (leading whitespace joins the first).</summary>
    internal static List<string> Split(string text)
    {
        var pieces = Piece().Matches(text).Select(m => m.Value).ToList();
        if (pieces.Count == 0) return text.Length == 0 ? [] : [text];
        var lead = Piece().Match(text).Index;
        if (lead > 0) pieces[0] = text[..lead] + pieces[0];
        return pieces;
    }

    [GeneratedRegex(@"\S+\s*")]
    private static partial Regex Piece();
}
