namespace SelfTaught.Core.Stages;

/// <summary>Chunk ranges over a run's item ids held in memory in ascending order.</summary>
public static class SortedIds
{
    /// <summary>The ids of ascending <paramref name="sorted"/> within [<paramref name="first"/>, <paramref name="last"/>], found by binary search.</summary>
    public static IReadOnlyList<long> Range(IReadOnlyList<long> sorted, long first, long last)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        var from = FirstIndex(sorted, id => id >= first);
        var to = FirstIndex(sorted, id => id > last);
        return [.. Enumerable.Range(from, Math.Max(0, to - from)).Select(i => sorted[i])];
    }

    /// <summary>Index of the first item of ascending <paramref name="sorted"/> that meets the monotone <paramref name="condition"/>.</summary>
    private static int FirstIndex(IReadOnlyList<long> sorted, Func<long, bool> condition)
    {
        var (low, high) = (0, sorted.Count);
        while (low < high)
        {
            var middle = low + (high - low) / 2;
            if (condition(sorted[middle])) high = middle;
            else low = middle + 1;
        }
        return low;
    }
}
