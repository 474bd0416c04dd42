namespace SelfTaught.Web.Components.Pages.Data;

/// <summary>Axis helpers shared by the bar charts (<c>DistributionChart</c>, <c>ComparisonChart</c>). Pure.</summary>
public static class ChartAxis
{
    // Upper bounds for the axis font (12px): average glyph width and line height, in pixels.
    private const double LabelCharWidth = 7;
    private const double LabelLineHeight = 12;
    // Room MudBlazor always leaves left of the plot, and a margin.
    private const double ChartLeftSpace = 30;
    private const double LabelMargin = 4;

    /// <summary>About five gridlines at a round step (1, 2, 5, 10, 20, 50, ...) for values up to <paramref name="largest"/>.</summary>
    public static int TickStep(int largest)
    {
        var step = 1;
        while (largest / step > 5)
        {
            step = step.ToString(System.Globalization.CultureInfo.InvariantCulture)[0] == '2' ? step / 2 * 5 : step * 2;
        }

        return step;
    }

    /// <summary>
    /// <paramref name="label"/> cut to <paramref name="maxLength"/> characters with an ellipsis: after the last whole
    /// word that fits, or mid-word when that would keep less than half of the limit. A limit below 2 keeps it whole.
    /// </summary>
    public static string Shorten(string label, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(label);
        if (maxLength < 2 || label.Length <= maxLength)
        {
            return label;
        }

        var space = label.LastIndexOf(' ', maxLength - 1);
        var cut = space >= maxLength / 2 ? label[..space] : label[..(maxLength - 1)];
        return cut.TrimEnd(' ', ',', ';', ':', '/', '-') + "…";
    }

    /// <summary>
    /// Pixels to leave left of a chart whose axis labels are turned by <paramref name="rotation"/> degrees: a turned
    /// label ends under its bar and runs down to the left, so the longest one may reach this far left of the first bar,
    /// which stands just right of MudBlazor's own left space.
    /// </summary>
    public static int LeftRoom(IReadOnlyList<string> labels, int rotation)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (rotation <= 0 || labels.Count == 0)
        {
            return 0;
        }

        var angle = rotation * Math.PI / 180;
        var reach = labels.Max(l => l.Length) * LabelCharWidth * Math.Cos(angle) + LabelLineHeight / 2 * Math.Sin(angle);
        return (int)Math.Ceiling(Math.Max(0, reach - ChartLeftSpace) + LabelMargin);
    }
}
