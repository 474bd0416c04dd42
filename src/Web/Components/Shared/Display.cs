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

    /// <summary>A throughput such as <c>1.25 items/s</c>; an em dash when there is none yet.</summary>
    public static string Rate(double? perSecond, string unit) =>
        perSecond is not { } value ? "—"
        : string.Create(CultureInfo.InvariantCulture, $"{value.ToString(value >= 100 ? "N0" : value >= 10 ? "N1" : "N2", CultureInfo.InvariantCulture)} {unit}/s");

    /// <summary>A duration in seconds as <c>42s</c>, <c>3m 05s</c> or <c>2h 07m</c>; an em dash when unknown.</summary>
    public static string Duration(double? seconds)
    {
        if (seconds is not { } value || double.IsNaN(value) || value > 1e10)
        {
            return "—";
        }

        var span = TimeSpan.FromSeconds(Math.Max(0, Math.Round(value)));
        return span.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h {span.Minutes:00}m")
            : span.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.Minutes}m {span.Seconds:00}s")
            : string.Create(CultureInfo.InvariantCulture, $"{span.Seconds}s");
    }

    /// <summary>A size in bytes as <c>812 B</c>, <c>1.5 KB</c>, <c>23.4 MB</c> or <c>1.02 GB</c> (binary units).</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        var format = unit == 0 ? "0" : value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00";
        return string.Create(CultureInfo.InvariantCulture, $"{value.ToString(format, CultureInfo.InvariantCulture)} {units[unit]}");
    }
}
