using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;
using SelfTaught.Core.Import.Hub;

namespace SelfTaught.Core.Tests.Import;

public class HuggingFaceHubTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HuggingFaceHubSettings Settings(FakeHub hub, string? token = null, int attempts = 5) => new()
    {
        Endpoint = hub.Endpoint, Token = token, MaxDownloadAttempts = attempts, RetryDelay = TimeSpan.FromMilliseconds(10),
    };

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void FromEnvironment_ReadsEndpointAndToken_AndNeverPrintsTheToken()
    {
        var env = new Dictionary<string, string?> { ["HF_ENDPOINT"] = "http://127.0.0.1:5555", ["HF_TOKEN"] = " hf_secret " };

        var settings = HuggingFaceHubSettings.FromEnvironment(env.GetValueOrDefault);
        var defaults = HuggingFaceHubSettings.FromEnvironment(_ => null);

        Assert.Equal(new Uri("http://127.0.0.1:5555"), settings.Endpoint);
        Assert.Equal("hf_secret", settings.Token);
        Assert.DoesNotContain("hf_secret", settings.ToString());
        Assert.Equal(new Uri("https://huggingface.co"), defaults.Endpoint);
        Assert.Null(defaults.Token);
        Assert.Contains("HF_ENDPOINT is set to 'ftp://x'",
            Assert.Throws<ImportException>(() => HuggingFaceHubSettings.FromEnvironment(v => v == "HF_ENDPOINT" ? "ftp://x" : null)).Message);
    }

    [Fact]
    public async Task DownloadSplitAsync_FollowsTheRedirect_AndResumesWithARange_AfterTheConnectionDrops()
    {
        await using var fake = await FakeHub.StartAsync(Ct);
        var content = RandomBytes(300_000, seed: 1);
        fake.Files["acme/data/default/train/0000.parquet"] = content;
        fake.DropNextDownloadAfter = 100_000;
        using var h = await ImportHarness.CreateAsync(Settings(fake));
        var reports = new List<HubDownloadProgress>();

        var files = await h.Hub.DownloadSplitAsync(new HubSource("acme/data"), h.CacheFolder, new Progress(reports.Add), Ct);

        var file = Assert.Single(files);
        Assert.Equal((false, 1, 300_000L), (file.FromCache, file.Resumes, file.Length));
        Assert.Equal(content, await File.ReadAllBytesAsync(file.Path, Ct));
        Assert.Equal(Path.Combine(h.CacheFolder, "datasets", "acme", "data", "parquet", "default", "train", "0000.parquet"), file.Path);
        Assert.False(File.Exists(file.Path + ".part"));
        var cdn = fake.Requests.Where(r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, cdn.Count);
        Assert.Null(cdn[0].Range);
        Assert.Matches(@"^bytes=\d+-$", cdn[1].Range);
        Assert.Equal("bytes=100000-", cdn[1].Range);
        Assert.Contains(fake.Requests, r => r.Path.StartsWith("/datasets/acme/data/resolve/", StringComparison.Ordinal));
        Assert.Equal(300_000, reports[^1].BytesDone);
        Assert.Equal(300_000, reports[^1].BytesTotal);
    }

    [Fact]
    public async Task DownloadSplitAsync_RecoversFromAConnectionReset()
    {
        await using var fake = await FakeHub.StartAsync(Ct);
        var content = RandomBytes(250_000, seed: 6);
        fake.Files["acme/data/default/train/0000.parquet"] = content;
        fake.DropNextDownloadAfter = 120_000;
        fake.ResetOnDrop = true;
        using var h = await ImportHarness.CreateAsync(Settings(fake));

        var file = Assert.Single(await h.Hub.DownloadSplitAsync(new HubSource("acme/data"), h.CacheFolder, cancellationToken: Ct));

        // A reset may discard bytes in flight: the retry resumes from what reached the disk, possibly nothing.
        Assert.Equal(content, await File.ReadAllBytesAsync(file.Path, Ct));
        Assert.Equal(2, fake.Requests.Count(r => r.Method == "GET" && r.Path.StartsWith("/cdn/", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DownloadSplitAsync_KeepsThePartialFile_WhenAttemptsRunOut_AndTheNextCallResumesIt()
    {
        await using var fake = await FakeHub.StartAsync(Ct);
        var content = RandomBytes(200_000, seed: 2);
        fake.Files["acme/data/default/train/0000.parquet"] = content;
        fake.DropNextDownloadAfter = 50_000;
        using var h = await ImportHarness.CreateAsync(Settings(fake, attempts: 1));

        var ex = await Assert.ThrowsAsync<ImportException>(() => h.Hub.DownloadSplitAsync(new HubSource("acme/data"), h.CacheFolder, cancellationToken: Ct));
        var partial = Path.Combine(h.CacheFolder, "datasets", "acme", "data", "parquet", "default", "train", "0000.parquet.part");
        var kept = new FileInfo(partial).Length;
        var files = await h.Hub.DownloadSplitAsync(new HubSource("acme/data"), h.CacheFolder, cancellationToken: Ct);

        Assert.Contains("kept failing", ex.Message);
        Assert.Contains($"{fake.Endpoint}datasets/acme/data/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet", ex.Message);
        Assert.Contains("50,000 bytes are kept in the cache", ex.Message);
        Assert.Equal(50_000, kept);
        Assert.Equal(1, files[0].Resumes);
        Assert.Equal(content, await File.ReadAllBytesAsync(files[0].Path, Ct));
    }

    [Fact]
    public async Task DownloadSplitAsync_ReusesTheCachedFile_UntilItsETagChanges()
    {
        await using var fake = await FakeHub.StartAsync(Ct);
        fake.Files["acme/data/default/train/0000.parquet"] = RandomBytes(10_000, seed: 3);
        using var h = await ImportHarness.CreateAsync(Settings(fake));
        await h.Hub.DownloadSplitAsync(new HubSource("acme/data"), h.CacheFolder, cancellationToken: Ct);
        fake.Requests.Clear();

        var cached = Assert.Single(await h.Hub.DownloadSplitAsync(new HubSource("acme/data"), h.CacheFolder, cancellationToken: Ct));
        var cachedRequests = fake.Requests.ToList();
        var changed = RandomBytes(12_000, seed: 4);
        fake.Files["acme/data/default/train/0000.parquet"] = changed;
        var fresh = Assert.Single(await h.Hub.DownloadSplitAsync(new HubSource("acme/data"), h.CacheFolder, cancellationToken: Ct));

        Assert.True(cached.FromCache);
        Assert.DoesNotContain(cachedRequests, r => r.Method == "GET" && r.Path.StartsWith("/cdn/", StringComparison.Ordinal));
        Assert.Contains(cachedRequests, r => r.Method == "HEAD");
        Assert.False(fresh.FromCache);
        Assert.Equal(changed, await File.ReadAllBytesAsync(fresh.Path, Ct));
    }

    [Fact]
    public async Task DownloadSplitAsync_DeletesAndRefuses_AFileWhoseContentDoesNotMatchItsSha256ETag()
    {
        await using var fake = await FakeHub.StartAsync(Ct);
        fake.Files["acme/data/default/train/0000.parquet"] = RandomBytes(5_000, seed: 5);
        fake.ETagOverride = $"\"{new string('a', 64)}\"";
        using var h = await ImportHarness.CreateAsync(Settings(fake));

        var ex = await Assert.ThrowsAsync<ImportException>(() => h.Hub.DownloadSplitAsync(new HubSource("acme/data"), h.CacheFolder, cancellationToken: Ct));

        Assert.Contains("is corrupt: its SHA-256 is", ex.Message);
        Assert.Empty(Directory.GetFiles(h.CacheFolder, "*.parquet*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ListParquetFilesAsync_SaysToSetHfToken_WhenTheDatasetIsGated()
    {
        await using var fake = await FakeHub.StartAsync(Ct);
        fake.Files["acme/gated/default/train/0000.parquet"] = [1];
        fake.RequiredToken = "hf_right";
        using var anonymous = await ImportHarness.CreateAsync(Settings(fake));
        using var wrong = await ImportHarness.CreateAsync(Settings(fake, token: "hf_wrong"));
        using var right = await ImportHarness.CreateAsync(Settings(fake, token: "hf_right"));

        var noToken = await Assert.ThrowsAsync<ImportException>(() => anonymous.Hub.ListParquetFilesAsync(new HubSource("acme/gated"), Ct));
        var badToken = await Assert.ThrowsAsync<ImportException>(() => wrong.Hub.ListParquetFilesAsync(new HubSource("acme/gated"), Ct));
        var listed = await right.Hub.ListParquetFilesAsync(new HubSource("acme/gated"), Ct);

        Assert.Equal(
            $"The Hugging Face Hub refused access to dataset 'acme/gated' (HTTP 401 at {fake.Endpoint}api/datasets/acme/gated/parquet/default/train). " +
            "The dataset is gated or private: accept its terms on the Hub, then set HF_TOKEN to an access token of that account.", noToken.Message);
        Assert.Contains("refused the token in HF_TOKEN", badToken.Message);
        Assert.Contains("HTTP 403", badToken.Message);
        Assert.DoesNotContain("hf_wrong", badToken.Message);
        Assert.EndsWith("/datasets/acme/gated/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet", Assert.Single(listed).AbsoluteUri);
        Assert.Contains(fake.Requests, r => r.Authorization == "Bearer hf_right");
    }

    [Fact]
    public async Task ListParquetFilesAsync_NamesTheAvailableSplits_WhenTheSplitDoesNotExist()
    {
        await using var fake = await FakeHub.StartAsync(Ct);
        fake.Files["acme/data/default/train/0000.parquet"] = [1];
        fake.Files["acme/data/default/test/0000.parquet"] = [1];
        using var h = await ImportHarness.CreateAsync(Settings(fake));

        var wrongSplit = await Assert.ThrowsAsync<ImportException>(() => h.Hub.ListParquetFilesAsync(new HubSource("acme/data", Split: "validation"), Ct));
        var wrongRepo = await Assert.ThrowsAsync<ImportException>(() => h.Hub.ListParquetFilesAsync(new HubSource("acme/nothing"), Ct));

        Assert.StartsWith("Dataset 'acme/data' has no split 'validation' in config 'default'", wrongSplit.Message);
        Assert.EndsWith("Available config/split pairs: default/test, default/train.", wrongSplit.Message);
        Assert.Contains("Dataset 'acme/nothing' (config 'default', split 'train') was not found", wrongRepo.Message);
        Assert.Contains("HTTP 404", wrongRepo.Message);
    }

    [Fact]
    public async Task ListParquetFilesAsync_NamesTheUrl_WhenTheHubCannotBeReached()
    {
        var closed = FakeHub.ClosedEndpoint();
        using var h = await ImportHarness.CreateAsync(new HuggingFaceHubSettings { Endpoint = closed });

        var ex = await Assert.ThrowsAsync<ImportException>(() => h.Hub.ListParquetFilesAsync(new HubSource("allenai/WildChat-1M"), Ct));

        Assert.StartsWith($"Cannot reach the Hugging Face Hub at {closed}api/datasets/allenai/WildChat-1M/parquet/default/train (", ex.Message);
        Assert.Contains("set HF_ENDPOINT", ex.Message);
    }

    [Fact]
    public async Task ListParquetFilesAsync_ListsARevision_ThroughTheTreeApi()
    {
        await using var fake = await FakeHub.StartAsync(Ct);
        fake.Files["acme/data/default/train/0001.parquet"] = [1];
        fake.Files["acme/data/default/train/0000.parquet"] = [2];
        using var h = await ImportHarness.CreateAsync(Settings(fake));

        var urls = await h.Hub.ListParquetFilesAsync(new HubSource("acme/data", Revision: "refs/convert/parquet"), Ct);

        Assert.Equal(
            ["datasets/acme/data/resolve/refs%2Fconvert%2Fparquet/default/train/0000.parquet", "datasets/acme/data/resolve/refs%2Fconvert%2Fparquet/default/train/0001.parquet"],
            urls.Select(u => u.AbsoluteUri[fake.Endpoint.AbsoluteUri.Length..]));
        Assert.Contains(fake.Requests, r => r.Path == "/api/datasets/acme/data/tree/refs%2Fconvert%2Fparquet/default/train");
    }

    [Fact]
    public async Task ImportNewAsync_ImportsAWildChatSplit_FromTwoHubParquetFiles()
    {
        await using var fake = await FakeHub.StartAsync(Ct);
        using var h = await ImportHarness.CreateAsync(Settings(fake));
        var rows = WildChatFixture.Sample();
        foreach (var (name, part) in new[] { ("0000.parquet", rows[..15]), ("0001.parquet", rows[15..]) })
        {
            var local = h.PathOf(name);
            await WildChatFixture.WriteParquetAsync(local, part, rowGroupSize: 6, Ct);
            fake.Files[$"allenai/WildChat-1M/default/train/{name}"] = await File.ReadAllBytesAsync(local, Ct);
        }
        fake.DropNextDownloadAfter = 1_000;
        var request = new ImportRequest { Name = "WildChat", Source = new HubSource("allenai/WildChat-1M"), Preset = ImportPreset.WildChat };
        var phases = new List<ImportPhase>();

        var result = await h.Importer.ImportNewAsync(request, new InlineProgress(p => phases.Add(p.Phase)), Ct);

        Assert.Equal((26, 2, 1), (result.RowCount, result.RejectedCount, result.DuplicateCount));
        Assert.Equal(["0000.parquet", "0001.parquet"], result.Report!.Files.Select(f => f.Name));
        Assert.All(result.Report.Files, f => Assert.StartsWith(fake.Endpoint.AbsoluteUri, f.Url));
        Assert.Equal([ImportPhase.Downloading, ImportPhase.Completed], phases.Distinct().Where(p => p is ImportPhase.Downloading or ImportPhase.Completed));
        await using var db = h.Database.Create();
        var dataset = await db.Datasets.AsNoTracking().SingleAsync(Ct);
        Assert.Equal(("allenai/WildChat-1M", "default", "train", DatasetStatus.Ready), (dataset.Source, dataset.SourceConfig, dataset.SourceSplit, dataset.Status));
        // Row indexes run on across files: the second file starts at 15.
        Assert.Equal($"{15:x32}", (await db.Instructions.SingleAsync(i => i.RowIndex == 15, Ct)).SourceId);
    }

    [Fact]
    public async Task ImportNewAsync_RemovesTheDataset_WhenTheHubIsUnreachable()
    {
        using var h = await ImportHarness.CreateAsync(new HuggingFaceHubSettings { Endpoint = FakeHub.ClosedEndpoint() });
        var request = new ImportRequest { Name = "x", Source = new HubSource("allenai/WildChat-1M"), Preset = ImportPreset.WildChat };

        var ex = await Assert.ThrowsAsync<ImportException>(() => h.Importer.ImportNewAsync(request, cancellationToken: Ct));

        Assert.StartsWith("Cannot reach the Hugging Face Hub at", ex.Message);
        await using var db = h.Database.Create();
        Assert.False(await db.Datasets.AnyAsync(Ct));
    }

    private sealed class Progress(Action<HubDownloadProgress> report) : IProgress<HubDownloadProgress>
    {
        public void Report(HubDownloadProgress value) => report(value);
    }
}
