using System.Diagnostics;
using System.Security.Cryptography;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import.Hub;
using SelfTaught.Core.Import.Mapping;
using SelfTaught.Core.Import.Readers;
using static System.FormattableString;

namespace SelfTaught.Core.Import;

/// <summary>Settings of <see cref="DatasetImporter"/> (configuration section <c>Import</c>).</summary>
public sealed class DatasetImporterOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Import";

    /// <summary>
    /// Folder for files downloaded from the Hugging Face Hub, kept between imports so a retry resumes. Default
    /// <c>data/hub-cache</c>, relative to the working directory: hosts should set a path under the app's data folder.
    /// </summary>
    public string CacheFolder { get; set; } = Path.Combine("data", "hub-cache");

    /// <summary>
    /// Rows written per transaction. Default 500: with up to six batches queued for the writer, parsing rarely waits,
    /// and small batches die young instead of being promoted through the GC's generations (bench/Import.Bench).
    /// </summary>
    public int BatchSize { get; set; } = 500;
}

/// <summary>
/// Imports a dataset: streams rows from a file or a Hub split, maps them with a preset, filters and de-duplicates them,
/// and writes them in batches with insert-or-ignore under <c>RowIndex</c> = the row's position in the source.
/// <para>
/// Usage: <see cref="CreateDatasetAsync"/> validates the request and stores the dataset as Importing (hidden); a job
/// then calls <see cref="ImportAsync(long, IProgress{ImportProgress}?, CancellationToken)"/> with the dataset id. A run
/// that is interrupted (crash, cancellation) can be repeated: it re-reads the source, skips the rows already stored and
/// ends with every row stored exactly once. A run that fails removes the dataset and its rows and throws an
/// <see cref="ImportException"/> saying why. Cancellation leaves the dataset Importing for a later resume; call
/// <see cref="DiscardAsync"/> to drop it instead.
/// </para>
/// </summary>
public sealed partial class DatasetImporter(
    IDbContextFactory<SelfTaughtDbContext> dbFactory,
    HuggingFaceHubClient hub,
    DatasetImporterOptions options,
    ILogger<DatasetImporter> logger)
{
    private readonly int _batchSize = options.BatchSize >= 1
        ? options.BatchSize
        : throw new ArgumentOutOfRangeException(nameof(options), $"{DatasetImporterOptions.SectionName}:BatchSize must be at least 1.");

    /// <summary>
    /// Validates <paramref name="request"/> and stores its dataset with status Importing, its options, source and preset.
    /// Nothing is read yet, except that a local file must exist.
    /// </summary>
    /// <returns>The new dataset's id.</returns>
    /// <exception cref="ImportException">The request is invalid; nothing was stored.</exception>
    public async Task<long> CreateDatasetAsync(ImportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var (path, fileName) = request.Source switch
        {
            LocalFileSource l => (l.Path, Path.GetFileName(l.Path)),
            UploadedFileSource u => (u.Path, Path.GetFileName(u.FileName)),
            _ => (null, null),
        };
        if (path is not null && !File.Exists(path))
            throw new ImportException(Directory.Exists(path) ? $"'{path}' is a folder, not a file." : $"The file '{path}' does not exist.");
        // Files joined into the rows (MT-Bench's answers and questions) are checked now, so a missing one stores nothing.
        if (path is not null)
            await ResolveJoinedFilesAsync(RowMapper.Create(request), request, request.ResolveFormat(),
                SourceFileInfo.Of(path, fileName!, null), cancellationToken);

        var hubSource = request.Source as HubSource;
        var dataset = new Dataset
        {
            Name = request.Name.Trim(),
            Role = request.EffectiveRole,
            Status = DatasetStatus.Importing,
            Preset = ImportPresets.Name(request.Preset),
            Source = request.Source.DisplayName,
            SourceConfig = hubSource?.Config,
            SourceSplit = hubSource?.Split,
            SourceRevision = hubSource?.Revision,
            OptionsJson = request.ToJson(),
            Description = request.Description,
            CreatedAt = DateTime.UtcNow,
        };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.Datasets.Add(dataset);
        await db.SaveChangesAsync(cancellationToken);
        return dataset.Id;
    }

    /// <summary>Creates the dataset and imports it in one call (for scripts and tests; jobs use the two steps).</summary>
    /// <exception cref="ImportException">The import failed; nothing is left in the database.</exception>
    public async Task<ImportResult> ImportNewAsync(ImportRequest request, IProgress<ImportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var id = await CreateDatasetAsync(request, cancellationToken);
        return await ImportAsync(id, request, progress, cancellationToken);
    }

    /// <summary>Imports (or resumes importing) a dataset created by <see cref="CreateDatasetAsync"/>, with the request stored in it.</summary>
    /// <exception cref="ImportException">The import failed; the dataset and its rows were removed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the dataset stays Importing and can be resumed or discarded.</exception>
    public async Task<ImportResult> ImportAsync(long datasetId, IProgress<ImportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        string? optionsJson;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            optionsJson = await db.Datasets.Where(d => d.Id == datasetId).Select(d => d.OptionsJson).SingleOrDefaultAsync(cancellationToken);
        if (optionsJson is null)
            throw new ImportException($"Dataset {datasetId} does not exist or has no import options; it may have been discarded after a failed import.");
        return await ImportAsync(datasetId, ImportRequest.FromJson(optionsJson), progress, cancellationToken);
    }

    /// <summary>
    /// Imports (or resumes importing) dataset <paramref name="datasetId"/> from <paramref name="request"/>, which must be
    /// the request the dataset was created with. Returns at once if the dataset is already Ready.
    /// </summary>
    /// <param name="datasetId">A dataset with status Importing.</param>
    /// <param name="request">The import request.</param>
    /// <param name="progress">Receives progress after each batch and during downloads; may be null.</param>
    /// <param name="cancellationToken">Stops between rows; the dataset stays Importing.</param>
    /// <exception cref="ImportException">The import failed; the dataset and its rows were removed (not when the dataset is missing or was created with other options).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the dataset stays Importing and can be resumed or discarded.</exception>
    public async Task<ImportResult> ImportAsync(long datasetId, ImportRequest request, IProgress<ImportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        Dataset? dataset;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            dataset = await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Id == datasetId, cancellationToken);
        if (dataset is null)
            throw new ImportException($"Dataset {datasetId} does not exist; it may have been discarded after a failed import.");
        if (dataset.Status == DatasetStatus.Ready)
            return new ImportResult(dataset.Id, dataset.RowCount, dataset.RejectedCount, dataset.DuplicateCount, dataset.ContentHash,
                ImportReport.FromJson(dataset.ImportReportJson), AlreadyComplete: true);
        if (dataset.OptionsJson is not null && !Equals(ImportRequest.FromJson(dataset.OptionsJson), request))
            throw new ImportException($"Dataset {datasetId} was created with other import options; resume it with the options stored in it.");

        var stopwatch = Stopwatch.StartNew();
        LogStarting(logger, datasetId, request.Source.DisplayName, ImportPresets.Name(request.Preset));
        try
        {
            var result = await RunAsync(dataset, request, progress ?? NoProgress.Instance, cancellationToken);
            LogCompleted(logger, datasetId, result.RowCount, result.RejectedCount, result.DuplicateCount, stopwatch.Elapsed.TotalSeconds);
            DeleteUpload(request);
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogInterrupted(logger, datasetId);
            throw;
        }
        catch (Exception ex)
        {
            LogFailed(logger, ex, datasetId);
            try
            {
                await DeleteDatasetAsync(datasetId, CancellationToken.None);
            }
            catch (Exception cleanup)
            {
                LogCleanupFailed(logger, cleanup, datasetId);
                throw new ImportException($"{Describe(ex, request)} Removing the incomplete dataset {datasetId} also failed ({cleanup.Message}); discard it later.", ex);
            }
            DeleteUpload(request);
            if (ex is ImportException) throw;
            throw new ImportException(Describe(ex, request), ex);
        }
    }

    /// <summary>Removes a dataset and its rows (for a cancelled import), and its uploaded file. Does nothing if it does not exist.</summary>
    public async Task DiscardAsync(long datasetId, CancellationToken cancellationToken = default)
    {
        string? optionsJson;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            optionsJson = await db.Datasets.Where(d => d.Id == datasetId).Select(d => d.OptionsJson).SingleOrDefaultAsync(cancellationToken);
        await DeleteDatasetAsync(datasetId, cancellationToken);
        if (optionsJson is not null) DeleteUpload(ImportRequest.FromJson(optionsJson));
    }

    // An upload was saved only for this import: once it is stored (or given up), the copy goes.
    private void DeleteUpload(ImportRequest request)
    {
        if (request.Source is not UploadedFileSource upload) return;
        try
        {
            File.Delete(upload.Path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogUploadNotDeleted(logger, ex, upload.Path);
        }
    }

    private async Task<ImportResult> RunAsync(Dataset dataset, ImportRequest request, IProgress<ImportProgress> progress, CancellationToken ct)
    {
        var startedAt = DateTime.UtcNow;
        request.Validate();
        var rowKind = ImportPresets.RowKind(request.Preset);
        if ((rowKind == ImportRowKind.Instructions) != (dataset.Role == DatasetRole.InstructionPool))
            throw new ImportException($"Preset '{ImportPresets.Name(request.Preset)}' does not produce rows for a dataset with role {dataset.Role}.");
        var format = request.ResolveFormat();

        var files = await ResolveFilesAsync(request, progress, ct);
        var mapper = RowMapper.Create(request);
        var joined = files.Count == 0 ? [] : await ResolveJoinedFilesAsync(mapper, request, format, files[0], ct);
        var joinedFiles = joined.Select(j => SourceFileInfo.Of(j.Path, Path.GetFileName(j.Path), null)).ToList();
        // Joined files are part of the content: a changed answers file would change rows already stored.
        var contentHash = await HashAsync([.. files, .. joinedFiles], progress, ct);
        if (dataset.ContentHash is not null && dataset.ContentHash != contentHash)
            throw new ImportException(
                $"The source '{request.Source.DisplayName}' changed since this import started (its SHA-256 differs), so the rows stored so far no longer match it. Import it again.");

        int? lastStored;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // Recorded before any row, so a resumed run can tell whether the source is still the same; the request
            // too, for datasets created without CreateDatasetAsync, so ImportAsync(id) can resume them.
            var optionsJson = dataset.OptionsJson ?? request.ToJson();
            if (dataset.ContentHash is null || dataset.OptionsJson is null)
                await db.Datasets.Where(d => d.Id == dataset.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.ContentHash, contentHash)
                    .SetProperty(d => d.OptionsJson, optionsJson), ct);
            lastStored = rowKind == ImportRowKind.Instructions
                ? await db.Instructions.Where(i => i.DatasetId == dataset.Id).MaxAsync(i => (int?)i.RowIndex, ct)
                : await db.LabeledPairs.Where(p => p.DatasetId == dataset.Id).MaxAsync(p => (int?)p.RowIndex, ct);
        }
        if (lastStored is not null) LogResuming(logger, dataset.Id, lastStored.Value);

        var state = new ImportState(dataset.Id, request.EffectiveDedupe, lastStored ?? -1);
        await mapper.LoadJoinedFilesAsync(joined, ct);
        // Parsing and writing overlap: batches go to one writer task, in order, so what is stored is always a prefix.
        await using var writer = new BatchWriter(WriteBatchAsync, ct);
        long offset = 0;
        for (var f = 0; f < files.Count; f++)
        {
            var file = files[f];
            await using var table = await SourceReader.OpenAsync(file.Path, format, file.Name, ct);
            // No columns: an empty file, or JSON lines none of which is an object; its rows (if any) are all rejected.
            if (table.Columns.Count > 0) mapper.Bind(table.Columns, file.Name);
            if (table is ParquetTable parquet) mapper.PrepareParquet(parquet);
            long rowsInFile = 0;
            await foreach (var row in table.ReadRowsAsync(ct))
            {
                var index = offset + row.Index;
                if (index > int.MaxValue) throw new ImportException(Invariant($"The source has more than {int.MaxValue:N0} rows, more than a dataset can hold."));
                rowsInFile = row.Index + 1;
                var outcome = row.Fields is null
                    ? new Rejection(row.ErrorReason ?? RejectionReasons.InvalidJson, row.ErrorDetail ?? "the row cannot be read")
                    : RowFilter.Apply(mapper.Map(row.Fields), request.Filters);
                state.Add((int)index, outcome);

                if (state.PendingCount >= _batchSize) await writer.WriteAsync(state.TakePending(), ct);
                if (state.RowsRead % _batchSize == 0)
                    progress.Report(state.Progress(ImportPhase.Importing, (f + table.Progress) / files.Count, file.Name));
            }
            offset += rowsInFile;
        }
        // A row the mapper still holds (HelpSteer2's first row of a pair whose second never came) is rejected now.
        if (mapper.Complete() is { } unpaired) state.Reject((int)Math.Max(0, offset - 1), unpaired);
        if (state.PendingCount > 0) await writer.WriteAsync(state.TakePending(), ct);
        await writer.CompleteAsync();

        var names = string.Join(", ", files.Select(f => $"'{f.Name}'"));
        if (state.RowsRead == 0)
            throw new ImportException($"{names} contains no rows; nothing was imported.");
        if (state.Accepted == 0)
            throw new ImportException(
                Invariant($"None of the {state.RowsRead:N0} rows of {names} could be imported: {state.DescribeRejections()}."));

        int stored;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            stored = rowKind == ImportRowKind.Instructions
                ? await db.Instructions.CountAsync(i => i.DatasetId == dataset.Id, ct)
                : await db.LabeledPairs.CountAsync(p => p.DatasetId == dataset.Id, ct);
            if (stored != state.Accepted)
                throw new ImportException(
                    Invariant($"The dataset holds {stored:N0} rows but the source yields {state.Accepted:N0}; something else wrote to it during the import. Import it again."));

            var importedFiles = files.Select(f => new ImportedFile(f.Name, f.Bytes, f.Url))
                .Concat(joined.Zip(joinedFiles, (j, f) => new ImportedFile(f.Name, f.Bytes, JoinedAs: j.JoinedAs))).ToList();
            var report = state.Report(request, format, importedFiles, mapper.ResolvedColumns, mapper.SourceForm, lastStored is not null, startedAt);
            var reportJson = report.ToJson();
            // Without a description of its own, the dataset says which form of the source it came from.
            var description = request.Description ?? mapper.SourceForm;
            var updated = await db.Datasets.Where(d => d.Id == dataset.Id && d.Status == DatasetStatus.Importing)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.Description, description)
                    .SetProperty(d => d.RowCount, stored)
                    .SetProperty(d => d.RejectedCount, state.Rejected)
                    .SetProperty(d => d.DuplicateCount, state.Duplicates)
                    .SetProperty(d => d.ImportReportJson, reportJson)
                    .SetProperty(d => d.ContentHash, contentHash)
                    .SetProperty(d => d.Status, DatasetStatus.Ready), ct);
            if (updated == 0)
                throw new ImportException($"Dataset {dataset.Id} was removed or completed by someone else during the import.");
            progress.Report(state.Progress(ImportPhase.Completed, 1, null));
            return new ImportResult(dataset.Id, stored, state.Rejected, state.Duplicates, contentHash, report);
        }
    }

    // Presets that join other files into the rows (MT-Bench's two-file form) decide which from the first file's columns.
    private static async Task<IReadOnlyList<JoinedFile>> ResolveJoinedFilesAsync(
        RowMapper mapper, ImportRequest request, ImportFormat format, SourceFileInfo first, CancellationToken ct)
    {
        if (!mapper.JoinsFiles) return [];
        IReadOnlyList<string> columns;
        await using (var table = await SourceReader.OpenAsync(first.Path, format, first.Name, ct))
            columns = table.Columns;
        return mapper.ResolveJoinedFiles(columns, first.Name, first.Path, request);
    }

    private async Task WriteBatchAsync(PendingBatch batch, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (batch.Instructions.Count > 0) await db.InsertOrIgnoreAsync(batch.Instructions, ct);
        if (batch.Pairs.Count > 0) await db.InsertOrIgnoreAsync(batch.Pairs, ct);
    }

    private async Task<IReadOnlyList<SourceFileInfo>> ResolveFilesAsync(ImportRequest request, IProgress<ImportProgress> progress, CancellationToken ct)
    {
        switch (request.Source)
        {
            case LocalFileSource local:
                return [SourceFileInfo.Of(local.Path, Path.GetFileName(local.Path), null)];
            case UploadedFileSource upload:
                return [SourceFileInfo.Of(upload.Path, Path.GetFileName(upload.FileName), null)];
            case HubSource source:
                var downloads = await hub.DownloadSplitAsync(source, options.CacheFolder,
                    new SyncProgress<HubDownloadProgress>(p => progress.Report(new ImportProgress(
                        ImportPhase.Downloading,
                        p.BytesTotal is > 0 and var total ? (p.FileIndex + (double)p.BytesDone / total) / p.FileCount : (double)p.FileIndex / p.FileCount,
                        0, 0, 0, 0, p.BytesDone, p.BytesTotal, p.FileName))),
                    ct);
                return downloads.Select(d => new SourceFileInfo(d.Path, Path.GetFileName(d.Path), d.Length, d.Url.AbsoluteUri)).ToList();
            default:
                throw new ImportException("The import source is not supported.");
        }
    }

    private static async Task<string> HashAsync(IReadOnlyList<SourceFileInfo> files, IProgress<ImportProgress> progress, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var total = files.Sum(f => f.Bytes);
        long done = 0;
        var buffer = new byte[1 << 16];
        foreach (var file in files)
        {
            await using var stream = SourceReader.OpenRead(file.Path);
            int read;
            var reported = done;
            while ((read = await stream.ReadAsync(buffer, ct)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                done += read;
                if (done - reported >= 64 << 20)
                {
                    progress.Report(new ImportProgress(ImportPhase.Hashing, total == 0 ? 1 : (double)done / total, 0, 0, 0, 0, done, total, file.Name));
                    reported = done;
                }
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private async Task DeleteDatasetAsync(long datasetId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Instructions.Where(i => i.DatasetId == datasetId).ExecuteDeleteAsync(ct);
        await db.LabeledPairs.Where(p => p.DatasetId == datasetId).ExecuteDeleteAsync(ct);
        await db.Datasets.Where(d => d.Id == datasetId).ExecuteDeleteAsync(ct);
        await transaction.CommitAsync(ct);
    }

    private static string Describe(Exception ex, ImportRequest request) => ex switch
    {
        ImportException => ex.Message,
        IOException or UnauthorizedAccessException => $"Reading '{request.Source.DisplayName}' failed: {ex.Message}",
        DbUpdateException or Microsoft.Data.Sqlite.SqliteException => $"Storing the rows of '{request.Source.DisplayName}' failed: {ex.GetBaseException().Message}",
        _ => $"The import of '{request.Source.DisplayName}' failed: {ex.Message}",
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Importing dataset {DatasetId} from {Source} with preset {Preset}")]
    private static partial void LogStarting(ILogger logger, long datasetId, string source, string preset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming import of dataset {DatasetId}: rows up to index {LastStoredRow} are already stored")]
    private static partial void LogResuming(ILogger logger, long datasetId, int lastStoredRow);

    [LoggerMessage(Level = LogLevel.Information, Message = "Imported dataset {DatasetId}: {Rows} rows, {Rejected} rejected, {Duplicates} duplicates in {Seconds:0.0} s")]
    private static partial void LogCompleted(ILogger logger, long datasetId, int rows, int rejected, int duplicates, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Import of dataset {DatasetId} was cancelled; it stays Importing and can be resumed")]
    private static partial void LogInterrupted(ILogger logger, long datasetId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import of dataset {DatasetId} failed; removing it")]
    private static partial void LogFailed(ILogger logger, Exception exception, long datasetId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The uploaded file {Path} could not be deleted after its import")]
    private static partial void LogUploadNotDeleted(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Removing the failed import of dataset {DatasetId} failed")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, long datasetId);

    private sealed record SourceFileInfo(string Path, string Name, long Bytes, string? Url)
    {
        public static SourceFileInfo Of(string path, string name, string? url) => new(path, name, new FileInfo(path).Length, url);
    }

    private sealed record PendingBatch(List<Instruction> Instructions, List<LabeledPair> Pairs);

    /// <summary>
    /// Writes batches on a task of its own while the caller parses the next ones. At most six batches wait, so memory
    /// stays bounded; batches are written one at a time in the order given. A failed write surfaces at the next
    /// <see cref="WriteAsync"/> or at <see cref="CompleteAsync"/> as the original exception.
    /// </summary>
    private sealed class BatchWriter : IAsyncDisposable
    {
        private readonly Channel<PendingBatch> _channel = Channel.CreateBounded<PendingBatch>(
            new BoundedChannelOptions(6) { SingleReader = true, SingleWriter = true });
        private readonly CancellationTokenSource _cancellation;
        private readonly Task _writing;

        public BatchWriter(Func<PendingBatch, CancellationToken, Task> write, CancellationToken ct)
        {
            _cancellation = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var token = _cancellation.Token;
            _writing = Task.Run(async () =>
            {
                try
                {
                    await foreach (var batch in _channel.Reader.ReadAllAsync(token))
                        await write(batch, token);
                }
                catch (Exception ex)
                {
                    _channel.Writer.TryComplete(ex);
                    throw;
                }
            }, CancellationToken.None);
        }

        public async ValueTask WriteAsync(PendingBatch batch, CancellationToken ct)
        {
            try
            {
                await _channel.Writer.WriteAsync(batch, ct);
            }
            catch (ChannelClosedException)
            {
                await _writing; // rethrows what stopped the writer
                throw;
            }
        }

        public async Task CompleteAsync()
        {
            _channel.Writer.TryComplete();
            await _writing;
        }

        public async ValueTask DisposeAsync()
        {
            _channel.Writer.TryComplete();
            if (!_writing.IsCompleted) await _cancellation.CancelAsync();
            try
            {
                await _writing;
            }
            catch (Exception)
            {
                // Already surfaced to the caller, or the caller is failing for another reason.
            }
            _cancellation.Dispose();
        }
    }

    private sealed class NoProgress : IProgress<ImportProgress>
    {
        public static readonly NoProgress Instance = new();
        public void Report(ImportProgress value) { }
    }

    /// <summary>Counters, the de-duplication set, the pending batch and the report of one run.</summary>
    private sealed class ImportState(long datasetId, bool dedupe, int lastStoredIndex)
    {
        private readonly HashSet<ulong> _seen = [];
        private readonly Dictionary<string, (int Count, List<RowExample> Examples)> _rejections = new(StringComparer.Ordinal);
        private readonly List<RowExample> _duplicateExamples = [];

        public List<Instruction> PendingInstructions { get; private set; } = [];
        public List<LabeledPair> PendingPairs { get; private set; } = [];
        public int PendingCount => PendingInstructions.Count + PendingPairs.Count;
        public long RowsRead { get; private set; }
        public int Accepted { get; private set; }
        public int Rejected { get; private set; }
        public int Duplicates { get; private set; }

        public void Add(int index, RowOutcome outcome)
        {
            RowsRead++;
            switch (outcome)
            {
                case Rejection r:
                    Reject(index, r);
                    break;
                case HeldRow:
                    // Read, and imported (or rejected) with the row that completes it.
                    break;
                case InstructionDraft d:
                    var normalized = TextNormalizer.Normalize(d.Text!);
                    var hash = TextNormalizer.Hash64(normalized);
                    if (IsDuplicate(hash, index, d.Text)) break;
                    // Rows up to the last stored index were written by an earlier run (batches commit in order).
                    if (index > lastStoredIndex)
                        PendingInstructions.Add(new Instruction
                        {
                            DatasetId = datasetId, RowIndex = index, SourceId = d.SourceId, Text = d.Text!, Language = d.Language,
                            TurnCount = d.TurnCount, ReferenceAnswer = d.ReferenceAnswer, MetadataJson = RowText.Serialize(d.Metadata),
                            NormalizedHash = TextNormalizer.ToHex(hash),
                        });
                    break;
                case PairDraft p:
                    var prompt = TextNormalizer.Normalize(p.Prompt!);
                    // A pair is a duplicate only when everything matches: benchmarks reuse prompts with other responses.
                    // Votes of different judges on one pair are different rows (MT-Bench): the judge is part of the key when there is one.
                    var pairHash = TextNormalizer.Hash64(string.Join('\u001F',
                        p.Judge is null
                            ? [TextNormalizer.Normalize(p.Subset ?? ""), prompt, TextNormalizer.Normalize(p.ResponseA!), TextNormalizer.Normalize(p.ResponseB!)]
                            : [TextNormalizer.Normalize(p.Subset ?? ""), prompt, TextNormalizer.Normalize(p.ResponseA!), TextNormalizer.Normalize(p.ResponseB!), p.Judge]));
                    if (IsDuplicate(pairHash, index, p.Prompt)) break;
                    if (index > lastStoredIndex)
                        PendingPairs.Add(new LabeledPair
                        {
                            DatasetId = datasetId, RowIndex = index, Subset = p.Subset, SourceId = p.SourceId, Prompt = p.Prompt!,
                            ResponseA = p.ResponseA!, ResponseB = p.ResponseB!, Gold = p.Gold, Turn = p.Turn, ModelA = p.ModelA, ModelB = p.ModelB, Judge = p.Judge,
                            MetadataJson = RowText.Serialize(p.Metadata), NormalizedPromptHash = TextNormalizer.ToHex(TextNormalizer.Hash64(prompt)),
                            AttributeScoresAJson = p.AttributeScoresAJson, AttributeScoresBJson = p.AttributeScoresBJson,
                        });
                    break;
            }
        }

        /// <summary>Counts a rejection (of a row already counted as read, e.g. a held row that found no partner).</summary>
        public void Reject(int index, Rejection r)
        {
            Rejected++;
            var entry = _rejections.TryGetValue(r.Reason, out var found) ? found : (Count: 0, Examples: new List<RowExample>());
            if (entry.Examples.Count < ImportReport.MaxExamples) entry.Examples.Add(new RowExample(index, r.Detail, r.Preview));
            _rejections[r.Reason] = (entry.Count + 1, entry.Examples);
        }

        private bool IsDuplicate(ulong hash, int index, string? text)
        {
            if (!dedupe || _seen.Add(hash))
            {
                Accepted++;
                return false;
            }
            Duplicates++;
            if (_duplicateExamples.Count < ImportReport.MaxExamples)
                _duplicateExamples.Add(new RowExample(index, "same normalized text as an earlier row", RowText.Preview(text)));
            return true;
        }

        /// <summary>Hands the pending rows over (to the writer) and starts new lists.</summary>
        public PendingBatch TakePending()
        {
            var batch = new PendingBatch(PendingInstructions, PendingPairs);
            PendingInstructions = [];
            PendingPairs = [];
            return batch;
        }

        public ImportProgress Progress(ImportPhase phase, double? fraction, string? detail) =>
            new(phase, fraction, RowsRead, Accepted, Rejected, Duplicates, Detail: detail);

        public string DescribeRejections() => string.Join("; ", _rejections
            .OrderByDescending(r => r.Value.Count)
            .Select(r => Invariant($"{r.Value.Count:N0} × {r.Key} (e.g. row {r.Value.Examples[0].RowIndex}: {r.Value.Examples[0].Detail})")));

        public ImportReport Report(ImportRequest request, ImportFormat format, IReadOnlyList<ImportedFile> files,
            IReadOnlyDictionary<string, string> columns, string? sourceForm, bool resumed, DateTime startedAt) => new()
        {
            Format = ImportFormats.Name(format),
            Preset = ImportPresets.Name(request.Preset),
            Files = files,
            SourceForm = sourceForm,
            Columns = new Dictionary<string, string>(columns),
            Filters = request.Filters with { Dedupe = request.EffectiveDedupe },
            RowsRead = RowsRead,
            Imported = Accepted,
            Rejected = Rejected,
            Duplicates = Duplicates,
            Rejections = _rejections.OrderByDescending(r => r.Value.Count).ThenBy(r => r.Key, StringComparer.Ordinal)
                .Select(r => new RejectionSummary(r.Key, r.Value.Count, r.Value.Examples)).ToList(),
            DuplicateExamples = _duplicateExamples,
            Resumed = resumed,
            StartedAt = startedAt,
            CompletedAt = DateTime.UtcNow,
        };
    }
}
