using static System.FormattableString;

namespace SelfTaught.Core.Training;

/// <summary>Where training sets are exported. Bound from the <c>Exports</c> section.</summary>
public sealed class TrainingExportOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Exports";

    /// <summary>
    /// Folder of the exported files, laid out as <c>experiment-{id}/iteration-{n}/{sft.jsonl, dpo.jsonl, openai.jsonl,
    /// manifest.json}</c>. Default: <c>exports</c> beside the database file (the app's data folder); a relative path is
    /// resolved against the content root.
    /// </summary>
    public string? Folder { get; set; }

    /// <summary>The folder of one iteration's files under <paramref name="root"/>.</summary>
    public static string IterationFolder(string root, long experimentId, int iteration) =>
        Path.Combine(root, Invariant($"experiment-{experimentId}"), Invariant($"iteration-{iteration}"));

    /// <summary>The folder of one iteration's files.</summary>
    /// <exception cref="InvalidOperationException">The folder was not resolved (see <see cref="Resolve"/>).</exception>
    public string IterationFolder(long experimentId, int iteration) => IterationFolder(
        Folder ?? throw new InvalidOperationException($"{SectionName}:Folder is not resolved."), experimentId, iteration);

    /// <summary>
    /// The absolute export folder: <paramref name="configured"/> resolved against <paramref name="contentRoot"/>, or
    /// <c>exports</c> beside <paramref name="databaseFile"/> when it is empty.
    /// </summary>
    public static string Resolve(string? configured, string contentRoot, string databaseFile) =>
        string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(databaseFile))!, "exports")
            : Path.GetFullPath(configured, contentRoot);
}
