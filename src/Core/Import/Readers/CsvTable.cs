using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using CsvHelper;

namespace SelfTaught.Core.Import.Readers;

/// <summary>
/// CSV (comma-separated; tab-separated for <c>.tsv</c>) with a header row, optionally gzipped, read record by record
/// with CsvHelper. Fields become strings. A field with invalid UTF-8 or a record with broken quoting is a rejected row.
/// </summary>
internal sealed class CsvTable : SourceTable
{
    private readonly FileStream _file;
    private readonly Stream _stream;
    private readonly CsvReader _reader;
    private readonly Queue<CsvMalformedRecord> _malformed;
    private readonly IReadOnlyList<string> _columns;

    private CsvTable(FileStream file, Stream stream, CsvReader reader, Queue<CsvMalformedRecord> malformed, IReadOnlyList<string> columns)
    {
        _file = file;
        _stream = stream;
        _reader = reader;
        _malformed = malformed;
        _columns = columns;
    }

    public override IReadOnlyList<string> Columns => _columns;

    public override double Progress => _file.Length == 0 ? 1 : Math.Clamp((double)_file.Position / _file.Length, 0, 1);

    public static async Task<CsvTable> OpenAsync(string path, bool gzipped, bool tabSeparated, string displayName, CancellationToken cancellationToken)
    {
        var file = SourceReader.OpenRead(path);
        Stream stream = gzipped ? new GzipCheckedStream(file) : file;
        CsvReader? reader = null;
        try
        {
            if (!gzipped)
            {
                // A JSON file read as CSV yields one nonsense column per key; say what it is instead.
                var head = new byte[8];
                var read = await file.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
                file.Position = 0;
                var start = head.AsSpan(0, read);
                if (start.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) start = start[3..];
                start = start.TrimStart(" \t\r\n"u8);
                if (start.Length > 0 && (start[0] == (byte)'{' || start[0] == (byte)'['))
                    throw new ImportException($"'{displayName}' looks like JSON, not CSV; set the format to jsonl.");
            }

            var malformed = new Queue<CsvMalformedRecord>();
            var options = new CsvReaderOptions
            {
                Separator = tabSeparated ? '\t' : ',',
                HasHeader = true,
                DetectSeparatorHint = false,
                MaxRecordSize = SourceReader.MaxRecordBytes,
                MalformedData = CsvMalformedDataHandling.Skip,
                OnMalformedRecord = malformed.Enqueue,
                IncludeValuesInExceptions = false,
            };
            reader = CsvReader.Create(stream, options, leaveOpen: true);
            await ReadAsync(() => reader.ReadHeaderAsync(cancellationToken), displayName);
            var columns = reader.Headers.ToList();
            return new CsvTable(file, stream, reader, malformed, columns) { DisplayName = displayName };
        }
        catch
        {
            if (reader is not null) await reader.DisposeAsync();
            await stream.DisposeAsync();
            await file.DisposeAsync();
            throw;
        }
    }

    public override async IAsyncEnumerable<SourceRow> ReadRowsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long index = 0;
        while (true)
        {
            var more = await ReadAsync(() => _reader.ReadAsync(cancellationToken), DisplayName);
            // Records skipped for broken quoting still take a position, so later rows keep stable indexes.
            while (_malformed.TryDequeue(out var bad))
                if (bad.Skipped)
                    yield return new SourceRow(index++, null, RejectionReasons.MalformedCsv,
                        $"record {bad.RecordNumber} has broken quoting ({bad.Reason}): {SourceReader.Printable(Encoding.UTF8.GetBytes(bad.RawRecord ?? ""), 80)}");
            if (!more) yield break;
            yield return ReadRecord(index++);
        }
    }

    private SourceRow ReadRecord(long index)
    {
        var fields = new JsonObject();
        for (var i = 0; i < _reader.FieldCount; i++)
        {
            var name = i < _columns.Count ? _columns[i] : $"column_{i + 1}";
            var bytes = _reader.GetSpan(i);
            if (!Utf8.IsValid(bytes))
                return new SourceRow(index, null, RejectionReasons.InvalidUtf8,
                    $"record {_reader.RowNumber}, column '{name}' has bytes that are not UTF-8 (first at byte {JsonLinesTable.FirstInvalidUtf8(bytes)} of the field)");
            if (!fields.ContainsKey(name)) fields[name] = Encoding.UTF8.GetString(bytes);
        }
        return new SourceRow(index, fields);
    }

    public override async ValueTask DisposeAsync()
    {
        await _reader.DisposeAsync();
        await _stream.DisposeAsync();
        await _file.DisposeAsync();
    }

    private static async ValueTask<T> ReadAsync<T>(Func<ValueTask<T>> read, string displayName)
    {
        try
        {
            return await read();
        }
        catch (CsvFormatException ex)
        {
            throw new ImportException($"'{displayName}' cannot be read as CSV at record {ex.RecordNumber} ({ex.Message}).", ex);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            throw new ImportException($"The gzip data of '{displayName}' is corrupt or ends early ({ex.Message}); the file may be truncated.", ex);
        }
    }

    private static async ValueTask ReadAsync(Func<ValueTask> read, string displayName) =>
        await ReadAsync(async () => { await read(); return true; }, displayName);
}
