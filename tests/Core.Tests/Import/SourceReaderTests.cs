using System.Text;
using System.Text.Json.Nodes;
using SelfTaught.Core.Import;
using SelfTaught.Core.Import.Readers;

namespace SelfTaught.Core.Tests.Import;

public class SourceReaderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(IReadOnlyList<string> Columns, List<SourceRow> Rows)> ReadAllAsync(string path, ImportFormat format)
    {
        await using var table = await SourceReader.OpenAsync(path, format, cancellationToken: Ct);
        var rows = new List<SourceRow>();
        await foreach (var row in table.ReadRowsAsync(Ct)) rows.Add(row);
        return (table.Columns, rows);
    }

    [Fact]
    public async Task OpenAsync_ReadsNestedWildChatParquet_RowGroupByRowGroup_WithTheSchemaAsPublished()
    {
        using var h = await ImportHarness.CreateAsync();
        var source = WildChatFixture.Sample();
        var path = h.PathOf("wildchat.parquet");
        await WildChatFixture.WriteParquetAsync(path, source, rowGroupSize: 7, Ct);

        await using var table = await SourceReader.OpenAsync(path, ImportFormat.Parquet, cancellationToken: Ct);
        var rows = new List<SourceRow>();
        await foreach (var row in table.ReadRowsAsync(Ct)) rows.Add(row);

        Assert.Equal(source.Count, table.RowCount);
        Assert.Equal(
            ["conversation_hash", "model", "timestamp", "conversation", "turn", "language", "openai_moderation", "detoxify_moderation",
             "toxic", "redacted", "state", "country", "hashed_ip", "header"],
            table.Columns);
        Assert.Equal(Enumerable.Range(0, source.Count).Select(i => (long)i), rows.Select(r => r.Index));
        var monty = rows[20].Fields!;
        Assert.Equal($"{20:x32}", monty["conversation_hash"]!.GetValue<string>());
        var conversation = monty["conversation"]!.AsArray();
        Assert.Equal(6, conversation.Count);
        Assert.Equal("user", conversation[0]!["role"]!.GetValue<string>());
        Assert.Equal("Why does switching help?", conversation[2]!["content"]!.GetValue<string>());
        Assert.Equal(2002L, conversation[4]!["turn_identifier"]!.GetValue<long>());
        Assert.Equal("en-US", conversation[0]!["header"]!["accept-language"]!.GetValue<string>());
        var moderation = monty["openai_moderation"]!.AsArray()[0]!;
        Assert.False(moderation["categories"]!["harassment/threatening"]!.GetValue<bool>());
        Assert.Equal(0.0001, moderation["category_scores"]!["self-harm/intent"]!.GetValue<double>());
        Assert.Equal(3L, monty["turn"]!.GetValue<long>());
        Assert.True(rows[23].Fields!["toxic"]!.GetValue<bool>());
        Assert.Equal(new DateTime(2024, 3, 1, 12, 20, 0, DateTimeKind.Utc), monty["timestamp"]!.GetValue<DateTime>().ToUniversalTime());
    }

    [Fact]
    public async Task OpenAsync_ReadsGzippedJsonLines_AndRejectsLinesThatAreNotUtf8OrJson()
    {
        using var h = await ImportHarness.CreateAsync();
        var bytes = new List<byte>();
        bytes.AddRange("{\"prompt\":\"first\"}\n\n"u8.ToArray());
        bytes.AddRange("{\"prompt\":\"bad "u8.ToArray());
        bytes.AddRange([0xC3, 0x28]);  // an invalid two-byte sequence
        bytes.AddRange("\"}\r\n"u8.ToArray());
        bytes.AddRange("{\"prompt\": unquoted}\n[1,2]\n{\"prompt\":\"last\"}"u8.ToArray());  // no trailing newline
        var path = h.WriteBytes("mixed.jsonl.gz", [.. bytes]);

        var (columns, rows) = await ReadAllAsync(path, ImportFormat.JsonLines);

        Assert.Equal(["prompt"], columns);
        Assert.Equal([0L, 1, 2, 3, 4], rows.Select(r => r.Index));  // the blank line takes no index
        Assert.Equal("first", rows[0].Fields!["prompt"]!.GetValue<string>());
        Assert.Equal(RejectionReasons.InvalidUtf8, rows[1].ErrorReason);
        Assert.Contains("line 3", rows[1].ErrorDetail);
        Assert.Contains("byte 15", rows[1].ErrorDetail);
        Assert.Equal(RejectionReasons.InvalidJson, rows[2].ErrorReason);
        Assert.Equal(RejectionReasons.InvalidJson, rows[3].ErrorReason);
        Assert.Contains("array, not an object", rows[3].ErrorDetail);
        Assert.Equal("last", rows[4].Fields!["prompt"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpenAsync_ReadsCsvWithQuotedNewlines_AndRejectsAFieldThatIsNotUtf8()
    {
        using var h = await ImportHarness.CreateAsync();
        var bytes = new List<byte>();
        bytes.AddRange("\uFEFFid,prompt\n1,\"multi\nline, with \"\"quotes\"\"\"\n2,"u8.ToArray());
        bytes.AddRange([0xFF, 0xFE, 0x41]);
        bytes.AddRange("\n3,plain\n"u8.ToArray());
        var path = h.WriteBytes("prompts.csv", [.. bytes]);

        var (columns, rows) = await ReadAllAsync(path, ImportFormat.Csv);

        Assert.Equal(["id", "prompt"], columns);
        Assert.Equal(3, rows.Count);
        Assert.Equal("multi\nline, with \"quotes\"", rows[0].Fields!["prompt"]!.GetValue<string>());
        Assert.Equal(RejectionReasons.InvalidUtf8, rows[1].ErrorReason);
        Assert.Contains("column 'prompt'", rows[1].ErrorDetail);
        Assert.Equal("plain", rows[2].Fields!["prompt"]!.GetValue<string>());
        Assert.Equal(2, rows[2].Index);
    }

    [Fact]
    public async Task OpenAsync_ReadsTabSeparatedFiles_ByTheirExtension()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteText("prompts.tsv.gz", "prompt\tnote\nhello, world\tcomma stays\n");

        var (columns, rows) = await ReadAllAsync(path, ImportFormat.Csv);

        Assert.Equal(["prompt", "note"], columns);
        Assert.Equal("hello, world", Assert.Single(rows).Fields!["prompt"]!.GetValue<string>());
    }

    [Fact]
    public async Task OpenAsync_Fails_WhenCsvIsReadAsParquet()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.WriteText("prompts.parquet", "prompt,id\nhello,1\n");

        var ex = await Assert.ThrowsAsync<ImportException>(() => SourceReader.OpenAsync(path, ImportFormat.Parquet, cancellationToken: Ct));

        Assert.Contains("is not a parquet file", ex.Message);
        Assert.Contains("\"prompt,id", ex.Message);
    }

    [Fact]
    public async Task OpenAsync_Fails_WhenParquetIsReadAsJsonLinesOrCsv()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.PathOf("data.parquet");
        await WildChatFixture.WriteParquetAsync(path, WildChatFixture.Sample(), 100, Ct);

        var asJson = await Assert.ThrowsAsync<ImportException>(() => SourceReader.OpenAsync(path, ImportFormat.JsonLines, cancellationToken: Ct));
        var asCsv = await Assert.ThrowsAsync<ImportException>(() => SourceReader.OpenAsync(path, ImportFormat.Csv, cancellationToken: Ct));

        Assert.Contains("is a parquet file, not JSON lines; set the format to parquet", asJson.Message);
        Assert.Contains("is a parquet file, not CSV", asCsv.Message);
    }

    [Fact]
    public async Task OpenAsync_Fails_WhenCsvIsReadAsJsonLines_OrJsonAsCsv()
    {
        using var h = await ImportHarness.CreateAsync();
        var csv = h.WriteText("prompts.jsonl", "prompt,id\nhello,1\n");
        var json = h.WriteText("prompts.csv", "{\"prompt\":\"hello\"}\n");

        var csvAsJson = await Assert.ThrowsAsync<ImportException>(() => SourceReader.OpenAsync(csv, ImportFormat.JsonLines, cancellationToken: Ct));
        var jsonAsCsv = await Assert.ThrowsAsync<ImportException>(() => SourceReader.OpenAsync(json, ImportFormat.Csv, cancellationToken: Ct));

        Assert.Contains("Line 1 of 'prompts.jsonl' is not a JSON object", csvAsJson.Message);
        Assert.Contains("does not look like JSON lines", csvAsJson.Message);
        Assert.Contains("looks like JSON, not CSV", jsonAsCsv.Message);
    }

    [Fact]
    public async Task OpenAsync_Fails_OnATruncatedParquetFile()
    {
        using var h = await ImportHarness.CreateAsync();
        var whole = h.PathOf("whole.parquet");
        await WildChatFixture.WriteParquetAsync(whole, WildChatFixture.Sample(), 5, Ct);
        var bytes = await File.ReadAllBytesAsync(whole, Ct);
        var truncated = h.WriteBytes("truncated.parquet", bytes[..(bytes.Length * 2 / 3)]);

        var ex = await Assert.ThrowsAsync<ImportException>(() => SourceReader.OpenAsync(truncated, ImportFormat.Parquet, cancellationToken: Ct));

        Assert.Contains("'truncated.parquet' is truncated or incomplete", ex.Message);
    }

    [Fact]
    public async Task ReadRowsAsync_Fails_OnACorruptRowGroup_NamingIt()
    {
        using var h = await ImportHarness.CreateAsync();
        var path = h.PathOf("corrupt.parquet");
        await WildChatFixture.WriteParquetAsync(path, WildChatFixture.Sample(), 10, Ct);
        var bytes = await File.ReadAllBytesAsync(path, Ct);
        // Overwrite the data pages after the magic with garbage; the footer stays readable.
        for (var i = 4; i < bytes.Length / 2; i++) bytes[i] = 0x5A;
        await File.WriteAllBytesAsync(path, bytes, Ct);

        var ex = await Assert.ThrowsAnyAsync<ImportException>(async () =>
        {
            await using var table = await SourceReader.OpenAsync(path, ImportFormat.Parquet, cancellationToken: Ct);
            await foreach (var _ in table.ReadRowsAsync(Ct)) { }
        });

        Assert.Contains("corrupt", ex.Message);
        Assert.Contains("'corrupt.parquet'", ex.Message);
    }

    [Fact]
    public async Task ReadRowsAsync_Fails_OnTruncatedGzip()
    {
        using var h = await ImportHarness.CreateAsync();
        var whole = h.WriteText("whole.jsonl.gz", string.Concat(Enumerable.Range(0, 5000).Select(i => $"{{\"prompt\":\"prompt number {i} {Guid.NewGuid()}\"}}\n")));
        var bytes = await File.ReadAllBytesAsync(whole, Ct);
        var cut = h.WriteBytes("cut.jsonl", bytes[..(bytes.Length / 2)]);  // gzip recognized by its magic bytes

        var ex = await Assert.ThrowsAsync<ImportException>(async () =>
        {
            await using var table = await SourceReader.OpenAsync(cut, ImportFormat.JsonLines, cancellationToken: Ct);
            await foreach (var _ in table.ReadRowsAsync(Ct)) { }
        });

        Assert.Contains("gzip data of 'cut.jsonl' is corrupt or ends early", ex.Message);
    }

    [Fact]
    public async Task OpenAsync_ReadsAGzippedParquetFile()
    {
        using var h = await ImportHarness.CreateAsync();
        var plain = h.PathOf("plain.parquet");
        await WildChatFixture.WriteParquetAsync(plain, WildChatFixture.Sample(), 8, Ct);
        var gz = h.WriteBytes("data.parquet.gz", await File.ReadAllBytesAsync(plain, Ct));

        var (_, rows) = await ReadAllAsync(gz, ImportFormat.Parquet);

        Assert.Equal(WildChatFixture.Sample().Count, rows.Count);
    }

    [Fact]
    public async Task JsonLinesReader_RejectsALineOverTheLimit_WithoutBufferingIt()
    {
        var line = new string('x', 300);
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes($"{{\"a\":1}}\n{line}\n{{\"a\":2}}\n"));
        var reader = new Utf8LineReader(stream, maxLineBytes: 100);

        var first = await reader.ReadLineAsync(Ct);
        var second = await reader.ReadLineAsync(Ct);
        var third = await reader.ReadLineAsync(Ct);
        var end = await reader.ReadLineAsync(Ct);

        Assert.False(first!.Value.TooLong);
        Assert.True(second!.Value.TooLong);
        Assert.Equal(300, second.Value.Length);
        Assert.Equal("{\"a\":2}", Encoding.UTF8.GetString(third!.Value.Bytes.Span));
        Assert.Null(end);
        Assert.Equal(RejectionReasons.LineTooLong, JsonLinesTable.Parse(1, second.Value, 2).ErrorReason);
    }

    [Fact]
    public void ParquetValues_BecomeJson_IncludingNonFiniteNumbers()
    {
        Assert.Equal("\"NaN\"", ParquetTable.ToJson(double.NaN)!.ToJsonString());
        Assert.Equal("[1,\"x\",null]", ParquetTable.ToJson(new List<object?> { 1L, "x", null })!.ToJsonString());
        Assert.Equal("AQI=", ParquetTable.ToJson(new byte[] { 1, 2 })!.GetValue<string>());
        Assert.IsType<JsonObject>(ParquetTable.ToJson(new Dictionary<string, object> { ["a"] = true }));
    }
}
