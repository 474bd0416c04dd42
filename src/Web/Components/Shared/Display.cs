using System.Globalization;

namespace SelfTaught.Web.Components.Shared;

/// <summary>Formatting used across pages, so every page shows times and long texts the same way.</summary>
public static class Display
{
    /// <summary>A stored UTC time as <c>2025-01-31 14:05 UTC</c>.</summary>
    public static string Utc(DateTime value) =>
        value.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>The first <paramref name="length"/> characters of a text on one line, with an ellipsis when cut.</summary>
    public static string Excerpt(string? text, int length = 120)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var oneLine = text.ReplaceLineEndings(" ");
        return oneLine.Length <= length ? oneLine : string.Concat(oneLine.AsSpan(0, length), "…");
    }
}
