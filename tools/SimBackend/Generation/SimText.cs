using System.Text;
using System.Text.RegularExpressions;

namespace SelfTaught.SimBackend.Generation;

/// <summary>Text helpers: normalization for prompt matching, and the simulated-response statement.</summary>
internal static partial class SimText
{
    /// <summary>Every completion starts with this statement.</summary>
    public const string SimulatedStatement = "(simulated response)";

    /// <summary>Typographic quotes to ASCII (the paper writes <c>Assistant’s</c> with U+2019); line breaks kept.</summary>
    public static string NormalizeQuotes(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '\u2018' or '\u2019' or '\u201A' or '\u201B' or '\u2032' or '\u02BC' => '\'',
                '\u201C' or '\u201D' or '\u201E' or '\u201F' or '\u2033' => '"',
                _ => c,
            });
        }

        return sb.ToString();
    }

    /// <summary>Quotes normalized, every run of whitespace collapsed to one space, trimmed.</summary>
    public static string Normalize(string text) => Whitespace().Replace(NormalizeQuotes(text), " ").Trim();

    /// <summary>Words (letters/digits) of a text, lower-cased.</summary>
    public static IEnumerable<string> Words(string text) =>
        WordRegex().Matches(text).Select(m => m.Value.ToLowerInvariant());

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"[\p{L}\p{N}][\p{L}\p{N}'+#-]*")]
    private static partial Regex WordRegex();
}
