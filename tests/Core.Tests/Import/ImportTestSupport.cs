using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SelfTaught.Core.Import;
using SelfTaught.Core.Import.Hub;

namespace SelfTaught.Core.Tests.Import;

/// <summary>The shared real data sets (read in place, never copied into the repository).</summary>
internal static class SharedData
{
    private static readonly Lazy<string> Root = new(Find);

    /// <summary>A file under <c>shared/data</c>, found by walking up from the test binaries.</summary>
    public static string File(params string[] parts)
    {
        var path = Path.Combine([Root.Value, .. parts]);
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"Shared data file '{path}' is missing; see shared/data/README.md.", path);
        return path;
    }

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException(
            $"No folder 'shared/data' above {AppContext.BaseDirectory}; the tests read the shared data sets beside the repository (../shared/data).");
    }
}

/// <summary>A real SQLite database plus an importer writing to it, and a scratch folder for generated files.</summary>
internal sealed class ImportHarness : IDisposable
{
    private ImportHarness(TempDatabase database, HuggingFaceHubSettings hubSettings, int batchSize)
    {
        Database = database;
        Files = Path.Combine(database.Folder, "files");
        Directory.CreateDirectory(Files);
        CacheFolder = Path.Combine(database.Folder, "hub-cache");
        Http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        Hub = new HuggingFaceHubClient(Http, hubSettings, NullLogger<HuggingFaceHubClient>.Instance);
        Importer = new DatasetImporter(database.Factory, Hub, new DatasetImporterOptions { CacheFolder = CacheFolder, BatchSize = batchSize },
            NullLogger<DatasetImporter>.Instance);
    }

    public TempDatabase Database { get; }
    public string Files { get; }
    public string CacheFolder { get; }
    public HttpClient Http { get; }
    public HuggingFaceHubClient Hub { get; }
    public DatasetImporter Importer { get; }

    public static async Task<ImportHarness> CreateAsync(HuggingFaceHubSettings? hub = null, int batchSize = 2_000)
    {
        var database = new TempDatabase();
        await database.InitializeAsync();
        return new ImportHarness(database, hub ?? new HuggingFaceHubSettings { Endpoint = new Uri("http://127.0.0.1:9/") }, batchSize);
    }

    /// <summary>A path in the scratch folder.</summary>
    public string PathOf(string name) => Path.Combine(Files, name);

    /// <summary>Writes text (UTF-8, no BOM) to the scratch folder, gzipped when the name ends with .gz.</summary>
    public string WriteText(string name, string text) => WriteBytes(name, Encoding.UTF8.GetBytes(text));

    public string WriteBytes(string name, byte[] bytes)
    {
        var path = PathOf(name);
        if (name.EndsWith(".gz", StringComparison.Ordinal))
        {
            using var file = System.IO.File.Create(path);
            using var gzip = new GZipStream(file, CompressionLevel.Fastest);
            gzip.Write(bytes);
        }
        else
        {
            System.IO.File.WriteAllBytes(path, bytes);
        }
        return path;
    }

    /// <summary>JSON lines from objects.</summary>
    public string WriteJsonLines(string name, IEnumerable<object> rows) =>
        WriteText(name, string.Concat(rows.Select(r => JsonSerializer.Serialize(r) + "\n")));

    public static ImportRequest Request(string path, ImportPreset preset, ImportFilters? filters = null, ColumnMapping? columns = null, ImportFormat? format = null) => new()
    {
        Name = Path.GetFileName(path),
        Source = new LocalFileSource(path),
        Preset = preset,
        Filters = filters ?? new ImportFilters(),
        Columns = columns,
        Format = format,
    };

    public void Dispose()
    {
        Http.Dispose();
        Database.Dispose();
    }
}
