using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;
using SelfTaught.Core.Stages;

namespace SelfTaught.Web.Import;

/// <summary>The dataset and stage run an import started.</summary>
public sealed record ImportStarted(long DatasetId, long StageRunId);

/// <summary>
/// Starts an import as a stage run, for <c>POST /api/datasets/import</c> and the Data page alike: saves an upload beside
/// the database, stores the dataset as Importing and queues the Import stage.
/// </summary>
public sealed class ImportLauncher(DatasetImporter importer, StageEngine engine, DatabaseOptions database)
{
    /// <summary>Validates <paramref name="body"/>, saves <paramref name="upload"/> if any, and queues the import.</summary>
    /// <param name="body">What to import and how.</param>
    /// <param name="upload">An uploaded file's content, streamed to disk; null for a server path or a Hub dataset.</param>
    /// <param name="fileName">The upload's original name (its extension selects the format).</param>
    /// <param name="cancellationToken">Stops saving the upload or storing the dataset.</param>
    /// <exception cref="ImportException">The request is invalid; nothing was stored and a saved upload was removed.</exception>
    public async Task<ImportStarted> StartAsync(ImportBody body, Stream? upload, string? fileName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        string? uploaded = null;
        string? uploadedName = null;
        try
        {
            if (upload is not null)
            {
                // Uploads are kept beside the database until the import has read them.
                var folder = Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(database.FilePath)!, "uploads")).FullName;
                uploadedName = Path.GetFileName(fileName);
                uploaded = Path.Combine(folder, $"{Guid.NewGuid():N}-{(string.IsNullOrWhiteSpace(uploadedName) ? "upload" : uploadedName)}");
                await using var target = File.Create(uploaded);
                await upload.CopyToAsync(target, cancellationToken);
            }
            var request = body.ToRequest(uploaded, uploadedName);
            var datasetId = await importer.CreateDatasetAsync(request, cancellationToken);
            var run = await engine.CreateAsync(StageKind.Import, new { source = request.Source.DisplayName, preset = body.Preset, format = body.Format },
                datasetId: datasetId, cancellationToken: cancellationToken);
            return new ImportStarted(datasetId, run.Id);
        }
        catch when (uploaded is not null)
        {
            File.Delete(uploaded);
            throw;
        }
    }
}
