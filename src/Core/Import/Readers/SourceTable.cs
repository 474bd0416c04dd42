using System.Text;
using System.Text.Json.Nodes;

namespace SelfTaught.Core.Import.Readers;

/// <summary>
/// One row of a source file. Either <see cref="Fields"/> holds the row as a JSON object (parquet values converted,
/// CSV fields as strings), or <see cref="ErrorReason"/> says why the row could not be read (e.g. invalid UTF-8); such
/// rows are rejected, not fatal.
/// </summary>
/// <param name="Index">Zero-based position of the row in its file.</param>
/// <param name="Fields">The row, or null when it could not be read.</param>
/// <param name="ErrorReason">A <see cref="RejectionReasons"/> code when the row could not be read.</param>
/// <param name="ErrorDetail">What was wrong, for the import report.</param>
public sealed record SourceRow(long Index, JsonObject? Fields, string? ErrorReason = null, string? ErrorDetail = null);

/// <summary>
/// A source file opened for streaming: its top-level columns, and its rows read once, in order, with memory bounded by
/// one parquet row group or one line/record. Dispose it when done.
/// </summary>
public abstract class SourceTable : IAsyncDisposable
{
    /// <summary>Name used in messages (the file name).</summary>
    public required string DisplayName { get; init; }

    /// <summary>Top-level column names (parquet schema, CSV header, keys of the first JSON object).</summary>
    public abstract IReadOnlyList<string> Columns { get; }

    /// <summary>Share of the file read so far (0–1), for progress.</summary>
    public abstract double Progress { get; }

    /// <summary>Rows in the file when the format says so up front (parquet); null otherwise.</summary>
    public virtual long? RowCount => null;

    /// <summary>Streams the rows. Can be enumerated once.</summary>
    /// <exception cref="ImportException">The file is structurally broken (truncated parquet, broken gzip, ...).</exception>
    public abstract IAsyncEnumerable<SourceRow> ReadRowsAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();
}

/// <summary>Opens source files in any supported format, checking that the bytes match the format.</summary>
public static class SourceReader
{
    /// <summary>Longest JSON line or CSV record read (64 MiB); longer lines are rejected rows, longer CSV records fail the file.</summary>
    public const int MaxRecordBytes = 64 * 1024 * 1024;

    internal static ReadOnlySpan<byte> ParquetMagic => "PAR1"u8;

    /// <summary>
    /// Opens <paramref name="path"/> as <paramref name="format"/>. Gzip is recognized by its magic bytes (whatever the
    /// extension); a gzipped parquet file is decompressed to a temporary file first, since parquet needs random access.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="format">The format to read it as.</param>
    /// <param name="displayName">Name for messages and the CSV separator choice (<c>.tsv</c>); default the file name.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <exception cref="ImportException">The file is missing, or its bytes are not the format (named in the message).</exception>
    public static async Task<SourceTable> OpenAsync(string path, ImportFormat format, string? displayName = null, CancellationToken cancellationToken = default)
    {
        displayName ??= Path.GetFileName(path);
        if (Directory.Exists(path)) throw new ImportException($"'{path}' is a folder, not a file.");
        if (!File.Exists(path)) throw new ImportException($"The file '{path}' does not exist.");

        var head = await ReadHeadAsync(path, cancellationToken);
        var gzipped = head.Length >= 2 && head[0] == 0x1F && head[1] == 0x8B;
        if (!gzipped && format != ImportFormat.Parquet && head.AsSpan().StartsWith(ParquetMagic))
            throw new ImportException($"'{displayName}' is a parquet file, not {Describe(format)}; set the format to parquet.");

        switch (format)
        {
            case ImportFormat.Parquet when gzipped:
                var temp = Path.Combine(Path.GetTempPath(), $"selftaught-import-{Guid.NewGuid():N}.parquet");
                try
                {
                    await using (var input = OpenRead(path))
                    await using (var gzip = new GzipCheckedStream(input))
                    await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                        await gzip.CopyToAsync(output, cancellationToken);
                    return await ParquetTable.OpenAsync(temp, displayName, deleteOnDispose: true, cancellationToken);
                }
                catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
                {
                    TryDelete(temp);
                    throw new ImportException($"'{displayName}' is not a valid gzip file ({ex.Message}); it may be truncated.", ex);
                }
                catch
                {
                    TryDelete(temp);
                    throw;
                }
            case ImportFormat.Parquet:
                return await ParquetTable.OpenAsync(path, displayName, deleteOnDispose: false, cancellationToken);
            case ImportFormat.JsonLines:
                return await JsonLinesTable.OpenAsync(path, gzipped, displayName, cancellationToken);
            case ImportFormat.Csv:
                return await CsvTable.OpenAsync(path, gzipped, ImportFormats.IsTabSeparated(displayName), displayName, cancellationToken);
            default:
                throw new ImportException($"Format {format} is not supported.");
        }
    }

    internal static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>The wire name of a format with an article, for messages.</summary>
    internal static string Describe(ImportFormat format) => format switch
    {
        ImportFormat.Parquet => "a parquet file",
        ImportFormat.JsonLines => "JSON lines",
        ImportFormat.Csv => "CSV",
        _ => format.ToString(),
    };

    /// <summary>The start of some bytes as printable text, for messages about files of the wrong format.</summary>
    internal static string Printable(ReadOnlySpan<byte> bytes, int max = 40)
    {
        var text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, max)]);
        var builder = new StringBuilder(text.Length);
        foreach (var c in text) builder.Append(char.IsControl(c) || c == '\uFFFD' ? '·' : c);
        return builder.ToString();
    }

    internal static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static async Task<byte[]> ReadHeadAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = OpenRead(path);
        var buffer = new byte[64];
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        return buffer[..read];
    }
}
