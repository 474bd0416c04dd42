using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using static System.FormattableString;

namespace SelfTaught.Core.Import.Readers;

/// <summary>
/// JSON lines, optionally gzipped, read line by line. Blank lines are skipped and take no row index. A line with
/// invalid UTF-8, invalid JSON or a non-object value is a rejected row, except at the start: a file whose first
/// readable line is not a JSON object is not JSON lines, and opening it fails.
/// </summary>
internal sealed class JsonLinesTable : SourceTable
{
    private const int MaxLeadingBadLines = 1000;

    private readonly FileStream _file;
    private readonly Stream _stream;
    private readonly Utf8LineReader _lines;
    private readonly List<SourceRow> _pending;
    private readonly IReadOnlyList<string> _columns;
    private long _nextIndex;

    private JsonLinesTable(FileStream file, Stream stream, Utf8LineReader lines, List<SourceRow> pending, IReadOnlyList<string> columns, long nextIndex)
    {
        _file = file;
        _stream = stream;
        _lines = lines;
        _pending = pending;
        _columns = columns;
        _nextIndex = nextIndex;
    }

    public override IReadOnlyList<string> Columns => _columns;

    public override double Progress => _file.Length == 0 ? 1 : Math.Clamp((double)_file.Position / _file.Length, 0, 1);

    public static async Task<JsonLinesTable> OpenAsync(string path, bool gzipped, string displayName, CancellationToken cancellationToken)
    {
        var file = SourceReader.OpenRead(path);
        Stream stream = gzipped ? new GzipCheckedStream(file) : file;
        try
        {
            var lines = new Utf8LineReader(stream, SourceReader.MaxRecordBytes);
            var pending = new List<SourceRow>();
            IReadOnlyList<string> columns = [];
            long index = 0;
            while (await ReadLineAsync(lines, displayName, cancellationToken) is { } line)
            {
                if (IsBlank(line)) continue;
                var row = Parse(index++, line, lines.LineNumber);
                pending.Add(row);
                if (row.Fields is not null)
                {
                    columns = row.Fields.Select(p => p.Key).ToList();
                    break;
                }
                if (row.ErrorReason == RejectionReasons.InvalidJson)
                    throw new ImportException(
                        $"Line {lines.LineNumber} of '{displayName}' is not a JSON object ({row.ErrorDetail}), so the file does not look like " +
                        $"JSON lines; it starts with \"{SourceReader.Printable(line.Bytes.Span)}\". If it is CSV or parquet, set the format.");
                if (pending.Count >= MaxLeadingBadLines)
                    throw new ImportException($"The first {MaxLeadingBadLines} lines of '{displayName}' cannot be read ({row.ErrorDetail}); is it a text file of JSON lines?");
            }
            return new JsonLinesTable(file, stream, lines, pending, columns, index) { DisplayName = displayName };
        }
        catch
        {
            await stream.DisposeAsync();
            await file.DisposeAsync();
            throw;
        }
    }

    public override async IAsyncEnumerable<SourceRow> ReadRowsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var row in _pending) yield return row;
        _pending.Clear();
        while (await ReadLineAsync(_lines, DisplayName, cancellationToken) is { } line)
        {
            if (IsBlank(line)) continue;
            yield return Parse(_nextIndex++, line, _lines.LineNumber);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        await _file.DisposeAsync();
    }

    /// <summary>Parses one line into a row, or a rejected row saying why it cannot be read.</summary>
    internal static SourceRow Parse(long index, Utf8LineReader.Line line, long lineNumber)
    {
        if (line.TooLong)
            return new SourceRow(index, null, RejectionReasons.LineTooLong,
                Invariant($"line {lineNumber} is {line.Length:N0} bytes long; lines over {SourceReader.MaxRecordBytes:N0} bytes are not read"));
        var bytes = line.Bytes.Span;
        if (!Utf8.IsValid(bytes))
            return new SourceRow(index, null, RejectionReasons.InvalidUtf8,
                $"line {lineNumber} has bytes that are not UTF-8 (first at byte {FirstInvalidUtf8(bytes)})");
        try
        {
            var node = JsonNode.Parse(bytes);
            return node is JsonObject obj
                ? new SourceRow(index, obj)
                : new SourceRow(index, null, RejectionReasons.InvalidJson,
                    $"line {lineNumber} is a JSON {(node is null ? "null" : node.GetValueKind().ToString().ToLowerInvariant())}, not an object");
        }
        catch (JsonException ex)
        {
            return new SourceRow(index, null, RejectionReasons.InvalidJson, $"line {lineNumber}: {ex.Message}");
        }
    }

    /// <summary>Index of the first byte that does not start a valid UTF-8 sequence.</summary>
    internal static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) != System.Buffers.OperationStatus.Done) return offset;
            offset += consumed;
        }
        return -1;
    }

    private static bool IsBlank(Utf8LineReader.Line line) =>
        !line.TooLong && line.Bytes.Span.Trim(" \t\r"u8).IsEmpty;

    private static async ValueTask<Utf8LineReader.Line?> ReadLineAsync(Utf8LineReader lines, string displayName, CancellationToken cancellationToken)
    {
        try
        {
            return await lines.ReadLineAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            throw new ImportException(
                $"The gzip data of '{displayName}' is corrupt or ends early after line {lines.LineNumber} ({ex.Message}); the file may be truncated.", ex);
        }
    }
}

file static class Utf8Extensions
{
    public static ReadOnlySpan<byte> Trim(this ReadOnlySpan<byte> span, ReadOnlySpan<byte> chars) =>
        span.TrimStart(chars).TrimEnd(chars);
}
