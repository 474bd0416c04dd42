using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Import;

/// <summary>
/// The flat body of <c>POST /api/datasets/import</c> (DESIGN §5): <c>{ "path", ...options }</c> or
/// <c>{ "hub": "owner/name", "config", "split", "revision", ...options }</c>, or the form fields of a multipart upload.
/// <see cref="ToRequest"/> turns it into an <see cref="ImportRequest"/>.
/// </summary>
public sealed record ImportBody
{
    /// <summary>Dataset name; default the file name or the hub id.</summary>
    public string? Name { get; init; }
    /// <summary>A file on the server to import in place.</summary>
    public string? Path { get; init; }
    /// <summary>A Hub dataset id <c>owner/name</c>.</summary>
    public string? Hub { get; init; }
    /// <summary>Hub config; default <c>default</c>.</summary>
    public string? Config { get; init; }
    /// <summary>Hub split; default <c>train</c>.</summary>
    public string? Split { get; init; }
    /// <summary>Hub revision of the parquet conversion; default the current listing.</summary>
    public string? Revision { get; init; }
    /// <summary><c>parquet</c>, <c>jsonl</c> or <c>csv</c>; default from the extension.</summary>
    public string? Format { get; init; }
    /// <summary>Preset wire name (<c>wildchat</c>, <c>instructions</c>, <c>pairs</c>, <c>rewardbench</c>, <c>mtbench-human</c>, <c>helpsteer2</c>, <c>hh-rlhf</c>, <c>gsm8k</c>); default <c>instructions</c>.</summary>
    public string? Preset { get; init; }
    /// <summary>Dataset role; default from the preset.</summary>
    public DatasetRole? Role { get; init; }
    /// <summary>Column overrides.</summary>
    public ColumnMapping? Columns { get; init; }
    /// <summary>WildChat turn: First (default) or Last.</summary>
    public TurnSelection? Turn { get; init; }
    /// <summary>Keep only this language.</summary>
    public string? Language { get; init; }
    /// <summary>Drop rows flagged toxic; default false.</summary>
    public bool? DropToxic { get; init; }
    /// <summary>Drop rows flagged redacted; default false.</summary>
    public bool? DropRedacted { get; init; }
    /// <summary>Minimum prompt length; default 1.</summary>
    public int? MinPromptLength { get; init; }
    /// <summary>Maximum prompt length; default 100,000.</summary>
    public int? MaxPromptLength { get; init; }
    /// <summary>Maximum response length (pairs); default 100,000.</summary>
    public int? MaxResponseLength { get; init; }
    /// <summary>Drop normalized duplicates; default on except for benchmarks.</summary>
    public bool? Dedupe { get; init; }
    /// <summary>Dataset description.</summary>
    public string? Description { get; init; }
    /// <summary><c>mtbench-human</c> two-file form: the answers file on the server; default <c>human_judgment_answers.jsonl</c> beside the votes file.</summary>
    public string? AnswersPath { get; init; }
    /// <summary><c>mtbench-human</c>: the MT-Bench questions file on the server; default <c>../mt_bench/question.jsonl</c> relative to the votes file.</summary>
    public string? QuestionsPath { get; init; }

    /// <summary>The import request this body asks for.</summary>
    /// <param name="uploadedPath">Where a multipart upload was saved (then <see cref="Path"/> and <see cref="Hub"/> must be empty).</param>
    /// <param name="uploadedFileName">The upload's original file name (its extension selects the format).</param>
    /// <exception cref="ImportException">The body names no source or several, or an unknown preset or format; the request is invalid.</exception>
    public ImportRequest ToRequest(string? uploadedPath = null, string? uploadedFileName = null)
    {
        var sources = new[] { uploadedPath, Path, Hub }.Count(s => !string.IsNullOrWhiteSpace(s));
        if (sources == 0) throw new ImportException("Name what to import: upload a file, or give \"path\" (a file on the server) or \"hub\" (owner/name).");
        if (sources > 1) throw new ImportException("Give one source only: an upload, \"path\" or \"hub\".");

        ImportSource source = !string.IsNullOrWhiteSpace(uploadedPath)
            ? new UploadedFileSource(uploadedPath, string.IsNullOrWhiteSpace(uploadedFileName) ? System.IO.Path.GetFileName(uploadedPath) : uploadedFileName)
            : !string.IsNullOrWhiteSpace(Path)
                ? new LocalFileSource(Path)
                : new HubSource(Hub!.Trim(), Config ?? "default", Split ?? "train", Revision);
        var defaults = new ImportFilters();
        var request = new ImportRequest
        {
            Name = string.IsNullOrWhiteSpace(Name) ? DefaultName(source) : Name,
            Source = source,
            Preset = Preset is null ? ImportPreset.Instructions : ImportPresets.Parse(Preset),
            Role = Role,
            Format = Format is null ? null : ImportFormats.Parse(Format),
            Columns = Columns,
            Description = Description,
            AnswersPath = string.IsNullOrWhiteSpace(AnswersPath) ? null : AnswersPath.Trim(),
            QuestionsPath = string.IsNullOrWhiteSpace(QuestionsPath) ? null : QuestionsPath.Trim(),
            Filters = new ImportFilters
            {
                Turn = Turn ?? defaults.Turn,
                Language = string.IsNullOrWhiteSpace(Language) ? null : Language.Trim(),
                DropToxic = DropToxic ?? defaults.DropToxic,
                DropRedacted = DropRedacted ?? defaults.DropRedacted,
                MinPromptLength = MinPromptLength ?? defaults.MinPromptLength,
                MaxPromptLength = MaxPromptLength ?? defaults.MaxPromptLength,
                MaxResponseLength = MaxResponseLength ?? defaults.MaxResponseLength,
                Dedupe = Dedupe,
            },
        };
        request.Validate();
        return request;
    }

    private static string DefaultName(ImportSource source) => source switch
    {
        HubSource hub => hub.Split == "train" && hub.Config == "default" ? hub.Repo : $"{hub.Repo} ({hub.Config}/{hub.Split})",
        _ => System.IO.Path.GetFileName(source.DisplayName),
    };
}
