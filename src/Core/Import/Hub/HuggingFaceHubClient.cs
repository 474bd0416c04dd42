using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using SelfTaught.Core.Import.Readers;
using static System.FormattableString;

namespace SelfTaught.Core.Import.Hub;

/// <summary>
/// Where the Hugging Face Hub is and how to authenticate, following the ecosystem's environment variables:
/// <c>HF_ENDPOINT</c> (default <c>https://huggingface.co</c>) and <c>HF_TOKEN</c> (a Bearer token for gated or private datasets).
/// </summary>
public sealed record HuggingFaceHubSettings
{
    /// <summary>Environment variable overriding the Hub's base URL.</summary>
    public const string EndpointVariable = "HF_ENDPOINT";

    /// <summary>Environment variable holding an access token.</summary>
    public const string TokenVariable = "HF_TOKEN";

    /// <summary>The public Hub.</summary>
    public static readonly Uri DefaultEndpoint = new("https://huggingface.co");

    /// <summary>Base URL of the Hub. Default <c>https://huggingface.co</c>.</summary>
    public Uri Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>Access token sent as <c>Authorization: Bearer</c> to the Hub's own host only. Default none.</summary>
    public string? Token { get; init; }

    /// <summary>Attempts per file download before giving up; each attempt resumes where the last stopped. Default 5.</summary>
    public int MaxDownloadAttempts { get; init; } = 5;

    /// <summary>Pause before retry n is n times this. Default 1 s.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A download whose body sends nothing for this long is treated as dropped and resumed. Default 60 s.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Settings from <c>HF_ENDPOINT</c> and <c>HF_TOKEN</c>.</summary>
    /// <param name="getVariable">Reads a variable; default <see cref="Environment.GetEnvironmentVariable(string)"/> (tests inject their own).</param>
    /// <exception cref="ImportException"><c>HF_ENDPOINT</c> is set but is not an absolute http(s) URL.</exception>
    public static HuggingFaceHubSettings FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var endpoint = getVariable(EndpointVariable);
        var token = getVariable(TokenVariable);
        Uri uri = DefaultEndpoint;
        if (!string.IsNullOrWhiteSpace(endpoint) &&
            (!Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out uri!) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
            throw new ImportException($"{EndpointVariable} is set to '{endpoint}', which is not an http(s) URL; unset it to use {DefaultEndpoint}.");
        return new HuggingFaceHubSettings { Endpoint = uri, Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim() };
    }

    /// <summary>Never prints the token.</summary>
    public override string ToString() => $"HuggingFaceHubSettings {{ Endpoint = {Endpoint}, Token = {(Token is null ? "none" : "set")} }}";
}

/// <summary>A file downloaded (or found complete in the cache).</summary>
/// <param name="Url">Where it came from.</param>
/// <param name="Path">Where it is on disk.</param>
/// <param name="Length">Its size in bytes.</param>
/// <param name="ETag">The server's entity tag, if it sent one.</param>
/// <param name="FromCache">True when the cached copy was still current and nothing was downloaded.</param>
/// <param name="Resumes">How many times the download continued from a partial file with a Range request.</param>
public sealed record HubFile(Uri Url, string Path, long Length, string? ETag, bool FromCache, int Resumes);

/// <summary>Download progress of a split.</summary>
/// <param name="FileName">File being downloaded.</param>
/// <param name="FileIndex">Zero-based index of that file.</param>
/// <param name="FileCount">Files in the split.</param>
/// <param name="BytesDone">Bytes of this file on disk so far.</param>
/// <param name="BytesTotal">Size of this file, when the server said.</param>
public sealed record HubDownloadProgress(string FileName, int FileIndex, int FileCount, long BytesDone, long? BytesTotal);

/// <summary>
/// Lists and downloads the parquet files of a Hugging Face Hub dataset split (the Hub's automatic parquet conversion),
/// into a cache folder, resuming interrupted downloads with HTTP Range requests and checking ETag and Content-Length.
/// Redirects (to the Hub's CDN) are followed by the <see cref="HttpClient"/>. Every failure is an
/// <see cref="ImportException"/> that names the URL and what to do (unreachable host, gated dataset, wrong split).
/// </summary>
/// <param name="http">Client used for every request; set its <see cref="HttpClient.Timeout"/> for the header wait.</param>
/// <param name="settings">Endpoint and token, usually <see cref="HuggingFaceHubSettings.FromEnvironment"/>.</param>
/// <param name="logger">Logs retries and resumes.</param>
public sealed partial class HuggingFaceHubClient(HttpClient http, HuggingFaceHubSettings settings, ILogger<HuggingFaceHubClient> logger)
{
    private static readonly JsonSerializerOptions MetaJson = new(JsonSerializerDefaults.Web);

    /// <summary>The endpoint and token in use.</summary>
    public HuggingFaceHubSettings Settings => settings;

    /// <summary>
    /// URLs of the parquet files of a split: <c>GET {endpoint}/api/datasets/{owner}/{name}/parquet/{config}/{split}</c>,
    /// or, when <see cref="HubSource.Revision"/> is set, the <c>.parquet</c> files under <c>{config}/{split}</c> of that
    /// revision (<c>/api/datasets/{owner}/{name}/tree/{revision}/{config}/{split}</c>, resolved with <c>/resolve/{revision}/</c>).
    /// </summary>
    /// <exception cref="ImportException">The Hub is unreachable, refuses access, or has no such dataset, config or split.</exception>
    public async Task<IReadOnlyList<Uri>> ListParquetFilesAsync(HubSource source, CancellationToken cancellationToken = default)
    {
        source.Validate();
        var (owner, name) = SplitRepo(source.Repo);
        var listing = source.Revision is null
            ? Api($"api/datasets/{Esc(owner)}/{Esc(name)}/parquet/{Esc(source.Config)}/{Esc(source.Split)}")
            : Api($"api/datasets/{Esc(owner)}/{Esc(name)}/tree/{Esc(source.Revision)}/{Esc(source.Config)}/{Esc(source.Split)}");

        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, listing), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
            throw new ImportException(await DescribeNotFoundAsync(source, listing, cancellationToken));
        EnsureSuccess(response, source.Repo, listing);

        List<Uri> urls;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            urls = source.Revision is null ? ParseParquetListing(json.RootElement, listing) : ParseTree(json.RootElement, owner, name, source.Revision);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or UriFormatException or KeyNotFoundException)
        {
            throw new ImportException($"The Hub's answer at {listing} is not a file listing ({ex.Message}); is {HuggingFaceHubSettings.EndpointVariable} pointing at a Hugging Face Hub?", ex);
        }
        if (urls.Count == 0)
            throw new ImportException(
                $"The Hub lists no parquet files for dataset '{source.Repo}', config '{source.Config}', split '{source.Split}' ({listing}). " +
                "The dataset may not have a parquet conversion yet.");
        return urls;
    }

    /// <summary>
    /// Downloads every parquet file of a split into
    /// <c>{cacheFolder}/datasets/{owner}/{name}/{revision or "parquet"}/{config}/{split}/</c>, reusing complete cached
    /// files whose ETag and size the server still reports, and resuming partial ones.
    /// </summary>
    /// <returns>The files in the listing's order.</returns>
    /// <exception cref="ImportException">Listing or a download failed; partial files are kept so a retry resumes.</exception>
    public async Task<IReadOnlyList<HubFile>> DownloadSplitAsync(
        HubSource source, string cacheFolder, IProgress<HubDownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var urls = await ListParquetFilesAsync(source, cancellationToken);
        var (owner, name) = SplitRepo(source.Repo);
        var folder = Path.Combine(Path.GetFullPath(cacheFolder), "datasets", Safe(owner), Safe(name), Safe(source.Revision ?? "parquet"), Safe(source.Config), Safe(source.Split));
        var names = urls.Select((url, i) => Safe(Uri.UnescapeDataString(url.Segments[^1]))).ToList();
        if (names.Distinct(StringComparer.OrdinalIgnoreCase).Count() != names.Count)
            names = names.Select((n, i) => Invariant($"{i:D5}-{n}")).ToList();

        var files = new List<HubFile>(urls.Count);
        for (var i = 0; i < urls.Count; i++)
        {
            var index = i;
            var fileProgress = progress is null ? null : new SyncProgress<(long Done, long? Total)>(p =>
                progress.Report(new HubDownloadProgress(names[index], index, urls.Count, p.Done, p.Total)));
            files.Add(await DownloadFileAsync(urls[i], Path.Combine(folder, names[i]), source.Repo, fileProgress, cancellationToken));
        }
        return files;
    }

    /// <summary>
    /// Downloads one file to <paramref name="destination"/> through <c>{destination}.part</c>, resuming with
    /// <c>Range</c>/<c>If-Range</c> after a dropped connection (up to <see cref="HuggingFaceHubSettings.MaxDownloadAttempts"/>),
    /// checking the size against Content-Length/Content-Range and, when the ETag is a SHA-256 (Hub LFS files), the content.
    /// </summary>
    /// <param name="url">File URL.</param>
    /// <param name="destination">Final path; its folder is created.</param>
    /// <param name="repo">Dataset id, for messages.</param>
    /// <param name="progress">Bytes on disk and total.</param>
    /// <param name="cancellationToken">Cancels; the partial file is kept.</param>
    /// <exception cref="ImportException">The download failed; the message names the URL.</exception>
    public async Task<HubFile> DownloadFileAsync(
        Uri url, string destination, string repo, IProgress<(long Done, long? Total)>? progress = null, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        var partPath = destination + ".part";
        var metaPath = destination + ".meta.json";
        var meta = ReadMeta(metaPath);
        if (meta is not null && meta.Url != url.AbsoluteUri) meta = null;

        if (File.Exists(destination) && meta is { Complete: true } && await IsCurrentAsync(url, destination, meta, repo, cancellationToken))
        {
            LogCacheHit(logger, url);
            var length = new FileInfo(destination).Length;
            progress?.Report((length, length));
            return new HubFile(url, destination, length, meta.ETag, FromCache: true, Resumes: 0);
        }
        if (File.Exists(destination)) File.Delete(destination);
        if (meta is null || meta.Complete) { SourceReader.TryDelete(partPath); meta = null; }

        var attempts = 0;
        var resumes = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long have = File.Exists(partPath) && meta is not null ? new FileInfo(partPath).Length : 0;
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (have > 0)
            {
                request.Headers.Range = new RangeHeaderValue(have, null);
                // If-Range: the server sends the whole file (200) instead of a range when it changed since.
                if (meta?.ETag is { } etag && !etag.StartsWith("W/", StringComparison.Ordinal) && EntityTagHeaderValue.TryParse(etag, out var tag))
                    request.Headers.IfRange = new RangeConditionHeaderValue(tag);
            }

            HttpResponseMessage response;
            try
            {
                response = await SendAsync(request, cancellationToken);
            }
            catch (ImportException ex) when (++attempts < settings.MaxDownloadAttempts && ex.InnerException is HttpRequestException or TimeoutException)
            {
                LogRetry(logger, url, attempts, ex.InnerException!.Message);
                await Task.Delay(settings.RetryDelay * attempts, cancellationToken);
                continue;
            }

            long? total;
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                {
                    // The partial file does not fit the server's file (it shrank or changed): start over.
                    SourceReader.TryDelete(partPath);
                    meta = null;
                    if (++attempts >= settings.MaxDownloadAttempts) throw new ImportException($"The Hub kept refusing the byte range of {url} (HTTP 416).");
                    continue;
                }
                EnsureSuccess(response, repo, url);

                var etag = response.Headers.ETag?.ToString();
                bool append;
                if (response.StatusCode == HttpStatusCode.PartialContent)
                {
                    var range = response.Content.Headers.ContentRange;
                    if (range?.From != have || (meta?.ETag is not null && etag is not null && etag != meta.ETag))
                    {
                        // Not the continuation asked for: discard the partial file rather than splice two versions.
                        SourceReader.TryDelete(partPath);
                        meta = null;
                        if (++attempts >= settings.MaxDownloadAttempts) throw new ImportException($"The Hub's ranges of {url} do not continue the partial download.");
                        continue;
                    }
                    total = range.Length;
                    append = true;
                    resumes++;
                    LogResume(logger, url, have);
                }
                else
                {
                    total = response.Content.Headers.ContentLength;
                    append = false;
                    have = 0;
                }
                meta = new DownloadMeta(url.AbsoluteUri, etag ?? meta?.ETag, total, Complete: false);
                WriteMeta(metaPath, meta);

                try
                {
                    have = await CopyBodyAsync(response, partPath, append, have, total, progress, cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is IOException or HttpRequestException or OperationCanceledException)
                {
                    have = File.Exists(partPath) ? new FileInfo(partPath).Length : 0;
                    if (++attempts >= settings.MaxDownloadAttempts)
                        throw new ImportException(
                            Invariant($"The download of {url} kept failing ({ex.Message}) after {attempts} attempts. ") +
                            Invariant($"{have:N0} bytes are kept in the cache; importing again resumes from there."), ex);
                    LogRetry(logger, url, attempts, ex.Message);
                    await Task.Delay(settings.RetryDelay * attempts, cancellationToken);
                    continue;
                }
            }

            if (total is { } expected && have != expected)
            {
                // The body ended cleanly but early (a proxy cut it): resume like after a drop.
                if (++attempts >= settings.MaxDownloadAttempts)
                    throw new ImportException(Invariant($"The download of {url} stopped at {have:N0} of {expected:N0} bytes {attempts} times."));
                LogRetry(logger, url, attempts, Invariant($"body ended at {have} of {expected} bytes"));
                continue;
            }

            await VerifyChecksumAsync(url, partPath, metaPath, meta.ETag, cancellationToken);
            File.Move(partPath, destination, overwrite: true);
            WriteMeta(metaPath, meta with { Length = have, Complete = true });
            return new HubFile(url, destination, have, meta.ETag, FromCache: false, resumes);
        }
    }

    private async Task<long> CopyBodyAsync(
        HttpResponseMessage response, string partPath, bool append, long have, long? total,
        IProgress<(long Done, long? Total)>? progress, CancellationToken cancellationToken)
    {
        await using var output = new FileStream(partPath, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        // HttpClient.Timeout ends with the headers; a body that stalls is caught by this per-read timeout.
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var buffer = new byte[1 << 16];
        var reported = have;
        progress?.Report((have, total));
        try
        {
            while (true)
            {
                stall.CancelAfter(settings.ReadTimeout);
                var read = await body.ReadAsync(buffer, stall.Token);
                if (read == 0) break;
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                have += read;
                if (have - reported >= 1 << 20) { progress?.Report((have, total)); reported = have; }
            }
        }
        catch (OperationCanceledException) when (stall.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await output.FlushAsync(CancellationToken.None);
            throw new IOException(Invariant($"no data for {settings.ReadTimeout.TotalSeconds:0} s"));
        }
        finally
        {
            // Keep what arrived: the next attempt resumes from the file's length.
            await output.FlushAsync(CancellationToken.None);
        }
        progress?.Report((have, total));
        return have;
    }

    private async Task<bool> IsCurrentAsync(Uri url, string path, DownloadMeta meta, string repo, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Head, url), cancellationToken);
        EnsureSuccess(response, repo, url);
        var etag = response.Headers.ETag?.ToString();
        var length = response.Content.Headers.ContentLength;
        return (etag is null || meta.ETag is null || etag == meta.ETag) && (length is null || length == new FileInfo(path).Length);
    }

    private static async Task VerifyChecksumAsync(Uri url, string path, string metaPath, string? etag, CancellationToken cancellationToken)
    {
        // The Hub's ETag of an LFS file is the SHA-256 of its content; other ETags are opaque.
        var value = etag?.Replace("W/", "", StringComparison.Ordinal).Trim('"');
        if (value is null || !Sha256Hex().IsMatch(value)) return;
        await using var stream = SourceReader.OpenRead(path);
        var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        if (!string.Equals(actual, value, StringComparison.OrdinalIgnoreCase))
        {
            stream.Close();
            SourceReader.TryDelete(path);
            SourceReader.TryDelete(metaPath);
            throw new ImportException($"The file downloaded from {url} is corrupt: its SHA-256 is {actual}, the server's ETag says {value}. It was deleted; import again to download it anew.");
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var url = request.RequestUri!;
        // The token goes to the Hub's own host only; HttpClient drops it on redirects to the CDN.
        if (settings.Token is { } token && string.Equals(url.Host, settings.Endpoint.Host, StringComparison.OrdinalIgnoreCase))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new ImportException(
                $"Cannot reach the Hugging Face Hub at {url} ({ex.Message}). Check the network connection, " +
                $"or set {HuggingFaceHubSettings.EndpointVariable} to a reachable endpoint (now {settings.Endpoint}).", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ImportException(
                Invariant($"The Hugging Face Hub at {url} did not answer within {http.Timeout.TotalSeconds:0} s."), new TimeoutException(ex.Message, ex));
        }
    }

    private void EnsureSuccess(HttpResponseMessage response, string repo, Uri url)
    {
        if (response.IsSuccessStatusCode) return;
        var code = (int)response.StatusCode;
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden when settings.Token is null => new ImportException(
                $"The Hugging Face Hub refused access to dataset '{repo}' (HTTP {code} at {url}). The dataset is gated or private: " +
                $"accept its terms on the Hub, then set {HuggingFaceHubSettings.TokenVariable} to an access token of that account."),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new ImportException(
                $"The Hugging Face Hub refused the token in {HuggingFaceHubSettings.TokenVariable} for dataset '{repo}' (HTTP {code} at {url}). " +
                "Check that the token is valid and that its account has accepted the dataset's terms."),
            HttpStatusCode.NotFound => new ImportException($"The Hugging Face Hub has no file at {url} (HTTP 404) for dataset '{repo}'."),
            _ => new ImportException($"The Hugging Face Hub answered HTTP {code} {response.ReasonPhrase} for {url}."),
        };
    }

    private async Task<string> DescribeNotFoundAsync(HubSource source, Uri listing, CancellationToken cancellationToken)
    {
        var (owner, name) = SplitRepo(source.Repo);
        var all = Api($"api/datasets/{Esc(owner)}/{Esc(name)}/parquet");
        try
        {
            using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, all), cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
                var available = json.RootElement.ValueKind == JsonValueKind.Object
                    ? json.RootElement.EnumerateObject().SelectMany(c => c.Value.ValueKind == JsonValueKind.Object
                        ? c.Value.EnumerateObject().Select(s => $"{c.Name}/{s.Name}") : []).ToList()
                    : [];
                return $"Dataset '{source.Repo}' has no split '{source.Split}' in config '{source.Config}'" +
                       $"{(source.Revision is null ? "" : $" at revision '{source.Revision}'")} (HTTP 404 at {listing}). " +
                       $"Available config/split pairs: {(available.Count == 0 ? "none listed" : string.Join(", ", available))}.";
            }
        }
        catch (Exception ex) when (ex is ImportException or JsonException)
        {
            // Fall through to the general message; the first 404 is the answer that matters.
        }
        return $"Dataset '{source.Repo}' (config '{source.Config}', split '{source.Split}') was not found on {settings.Endpoint} (HTTP 404 at {listing}). " +
               $"Check the name; a private dataset also answers 404 without a token in {HuggingFaceHubSettings.TokenVariable}.";
    }

    private List<Uri> ParseParquetListing(JsonElement root, Uri listing) =>
        root.EnumerateArray().Select(e => new Uri(listing, e.GetString() ?? throw new InvalidOperationException("a listed URL is null"))).ToList();

    private List<Uri> ParseTree(JsonElement root, string owner, string name, string revision) =>
        root.EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "file")
            .Select(e => e.GetProperty("path").GetString()!)
            .Where(p => p.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .Select(p => Api($"datasets/{Esc(owner)}/{Esc(name)}/resolve/{Esc(revision)}/{string.Join('/', p.Split('/').Select(Esc))}"))
            .ToList();

    private Uri Api(string relative)
    {
        var baseUri = settings.Endpoint.AbsoluteUri.EndsWith('/') ? settings.Endpoint : new Uri(settings.Endpoint.AbsoluteUri + "/");
        return new Uri(baseUri, relative);
    }

    private static string Esc(string segment) => Uri.EscapeDataString(segment);

    private static (string Owner, string Name) SplitRepo(string repo)
    {
        var slash = repo.IndexOf('/');
        return (repo[..slash], repo[(slash + 1)..]);
    }

    /// <summary>A path segment safe on every file system (no separators, no dot-only names).</summary>
    private static string Safe(string segment)
    {
        var chars = segment.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        var safe = new string(chars).Trim('.');
        return safe.Length == 0 ? "_" : safe;
    }

    private static DownloadMeta? ReadMeta(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<DownloadMeta>(File.ReadAllText(path), MetaJson) : null;
        }
        catch (JsonException)
        {
            return null; // a torn write: download again
        }
    }

    private static void WriteMeta(string path, DownloadMeta meta)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(meta, MetaJson));
        File.Move(temp, path, overwrite: true);
    }

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256Hex();

    [LoggerMessage(Level = LogLevel.Information, Message = "Using cached Hub file {Url}")]
    private static partial void LogCacheHit(ILogger logger, Uri url);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming download of {Url} at byte {Offset}")]
    private static partial void LogResume(ILogger logger, Uri url, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Download of {Url} failed (attempt {Attempt}): {Error}; retrying")]
    private static partial void LogRetry(ILogger logger, Uri url, int attempt, string error);

    /// <summary>What the cache knows about a file: its source, version and whether it is complete.</summary>
    private sealed record DownloadMeta(string Url, string? ETag, long? Length, bool Complete);
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, out of order).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
