using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Parquet;
using Parquet.Serialization;
using static System.FormattableString;

namespace SelfTaught.Core.Import.Readers;

/// <summary>
/// A parquet file read one row group at a time with Parquet.Net's untyped deserializer, which assembles nested
/// columns (WildChat's <c>conversation</c> list of structs) into dictionaries and lists; rows become JSON objects.
/// Memory is bounded by one row group.
/// </summary>
internal sealed class ParquetTable : SourceTable
{
    private static readonly ParquetOptions Options = new() { TreatByteArrayAsString = true };

    private readonly FileStream _file;
    private readonly string _path;
    private readonly bool _deleteOnDispose;
    private readonly IReadOnlyList<string> _columns;
    private readonly long[] _rowGroupRows;
    private long _rowsRead;
    private Func<int, CancellationToken, Task<IList>> _readGroup;
    private Func<object, JsonObject> _convert;

    private ParquetTable(FileStream file, string path, bool deleteOnDispose, IReadOnlyList<string> columns, long[] rowGroupRows)
    {
        _file = file;
        _path = path;
        _deleteOnDispose = deleteOnDispose;
        _columns = columns;
        _rowGroupRows = rowGroupRows;
        _readGroup = async (group, ct) => AsList((await ParquetSerializer.DeserializeUntypedAsync(_file, Options, group, ct)).Data);
        _convert = row => ToJsonObject((IDictionary)row);
    }

    /// <summary>
    /// Reads rows as <typeparamref name="T"/>: only the columns its properties name (by <c>JsonPropertyName</c>) are
    /// read, so wide nested columns a preset does not use (WildChat's moderation scores) never reach memory.
    /// </summary>
    public void Project<T>() where T : class, new()
    {
        _readGroup = async (group, ct) => AsList((await ParquetSerializer.DeserializeAsync<T>(_file, Options, group, ct)).Data);
        _convert = row => JsonSerializer.SerializeToNode((T)row, ProjectionJson)!.AsObject();
    }

    private static readonly JsonSerializerOptions ProjectionJson = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private static IList AsList<TItem>(IList<TItem> data) => data as IList ?? data.ToList();

    public override IReadOnlyList<string> Columns => _columns;

    public override long? RowCount => _rowGroupRows.Sum();

    public override double Progress => RowCount is > 0 and var total ? Math.Clamp((double)_rowsRead / total, 0, 1) : 1;

    public static async Task<ParquetTable> OpenAsync(string path, string displayName, bool deleteOnDispose, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.RandomAccess);
        try
        {
            await CheckMagicAsync(file, displayName, cancellationToken);
            ParquetReader reader;
            try
            {
                reader = await ParquetReader.CreateAsync(file, Options, leaveStreamOpen: true, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new ImportException($"'{displayName}' has a parquet footer that cannot be read ({ex.Message}); the file may be truncated or corrupt.", ex);
            }
            await using (reader)
            {
                var columns = reader.Schema.Fields.Select(f => f.Name).ToList();
                var rows = new long[reader.RowGroupCount];
                for (var g = 0; g < rows.Length; g++)
                {
                    using var group = reader.OpenRowGroupReader(g);
                    rows[g] = group.RowCount;
                }
                return new ParquetTable(file, path, deleteOnDispose, columns, rows) { DisplayName = displayName };
            }
        }
        catch
        {
            await file.DisposeAsync();
            if (deleteOnDispose) SourceReader.TryDelete(path);
            throw;
        }
    }

    public override async IAsyncEnumerable<SourceRow> ReadRowsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long index = 0;
        for (var g = 0; g < _rowGroupRows.Length; g++)
        {
            IList data;
            try
            {
                _file.Position = 0;
                data = await _readGroup(g, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new ImportException(
                    $"Row group {g + 1} of {_rowGroupRows.Length} in '{DisplayName}' cannot be read ({Innermost(ex).Message}); the file may be truncated or corrupt.", ex);
            }

            for (var i = 0; i < data.Count; i++)
            {
                var row = _convert(data[i]!);
                data[i] = null; // let the converted row go while the rest of the group is read
                _rowsRead++;
                yield return new SourceRow(index++, row);
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _file.DisposeAsync();
        if (_deleteOnDispose) SourceReader.TryDelete(_path);
    }

    /// <summary>Converts a value from Parquet.Net's untyped deserializer (primitives, dictionaries, lists) to JSON.</summary>
    internal static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        ReadOnlyMemory<char> m => JsonValue.Create(m.ToString()),
        bool b => JsonValue.Create(b),
        // JSON has no NaN or infinities; keep them readable instead of failing the row.
        double d when !double.IsFinite(d) => JsonValue.Create(d.ToString(CultureInfo.InvariantCulture)),
        float f when !float.IsFinite(f) => JsonValue.Create(f.ToString(CultureInfo.InvariantCulture)),
        double d => JsonValue.Create(d),
        float f => JsonValue.Create(f),
        decimal m => JsonValue.Create(m),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create(i),
        short s => JsonValue.Create(s),
        sbyte s => JsonValue.Create(s),
        ulong u => JsonValue.Create(u),
        uint u => JsonValue.Create(u),
        ushort u => JsonValue.Create(u),
        byte b => JsonValue.Create(b),
        DateTime t => JsonValue.Create(t),
        DateTimeOffset t => JsonValue.Create(t),
        DateOnly d => JsonValue.Create(d.ToString("O", CultureInfo.InvariantCulture)),
        TimeOnly t => JsonValue.Create(t.ToString("O", CultureInfo.InvariantCulture)),
        TimeSpan t => JsonValue.Create(t.ToString("c", CultureInfo.InvariantCulture)),
        Guid g => JsonValue.Create(g),
        byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes)),
        IDictionary dictionary => ToJsonObject(dictionary),
        IEnumerable list => new JsonArray(list.Cast<object?>().Select(ToJson).ToArray()),
        _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };

    private static JsonObject ToJsonObject(IDictionary dictionary)
    {
        var obj = new JsonObject();
        foreach (DictionaryEntry entry in dictionary)
        {
            var key = Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "";
            obj[key] = ToJson(entry.Value);
        }
        return obj;
    }

    private static async Task CheckMagicAsync(FileStream file, string displayName, CancellationToken cancellationToken)
    {
        var head = new byte[64];
        var read = await file.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, cancellationToken);
        var start = head.AsSpan(0, read);
        if (read == 0) throw new ImportException($"'{displayName}' is empty (0 bytes); it has no rows.");
        if (!start.StartsWith(SourceReader.ParquetMagic))
        {
            var hint = start.TrimStart(" \t\r\n"u8) is { Length: > 0 } t && (t[0] == (byte)'{' || t[0] == (byte)'[') ? " It looks like JSON: set the format to jsonl."
                : start.Length >= 2 && start[0] == 0x1F && start[1] == 0x8B ? " It is gzip data."
                : " If it is CSV or JSON lines, set the format accordingly.";
            throw new ImportException(
                $"'{displayName}' is not a parquet file: it does not start with the parquet magic bytes \"PAR1\" but with \"{SourceReader.Printable(start)}\".{hint}");
        }
        var tail = new byte[4];
        if (file.Length < 12)
            throw new ImportException($"'{displayName}' is truncated: {file.Length} bytes is too short for a parquet file.");
        file.Position = file.Length - 4;
        await file.ReadExactlyAsync(tail, cancellationToken);
        file.Position = 0;
        if (!tail.AsSpan().SequenceEqual(SourceReader.ParquetMagic))
            throw new ImportException(
                Invariant($"'{displayName}' is truncated or incomplete: a parquet file ends with \"PAR1\" after its footer, and this one ({file.Length:N0} bytes) does not."));
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex;
    }
}
