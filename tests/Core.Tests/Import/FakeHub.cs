using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SelfTaught.Core.Tests.Import;

/// <summary>
/// A loopback stand-in for the Hugging Face Hub routes the importer uses (STACK.md §9): the parquet listing of a split
/// and of a dataset, the tree of a revision, <c>resolve</c> redirecting to a "CDN" route that serves files with ETag,
/// Content-Length and Range, an optional token gate, and a connection drop part-way through a download.
/// </summary>
internal sealed class FakeHub : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeHub(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    /// <summary>Files by path in the parquet conversion, <c>owner/name/config/split/0000.parquet</c>.</summary>
    public ConcurrentDictionary<string, byte[]> Files { get; } = new();

    /// <summary>Every request: method, path, Range header and Authorization header.</summary>
    public ConcurrentQueue<(string Method, string Path, string? Range, string? Authorization)> Requests { get; } = new();

    /// <summary>When set, the API and resolve routes need <c>Authorization: Bearer {token}</c> (a gated dataset).</summary>
    public string? RequiredToken { get; set; }

    /// <summary>The next full download of a file sends this many bytes, then closes the connection (once per value set).</summary>
    public int? DropNextDownloadAfter { get; set; }

    /// <summary>Drop by an abortive reset instead of a close; the client may then lose bytes that were in flight.</summary>
    public bool ResetOnDrop { get; set; }

    /// <summary>When set, served instead of the SHA-256 ETag (to simulate a corrupt transfer).</summary>
    public string? ETagOverride { get; set; }

    public static async Task<FakeHub> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeHub? hub = null;
        app.Use(async (context, next) =>
        {
            hub!.Requests.Enqueue((context.Request.Method, context.Request.Path.Value ?? "", context.Request.Headers.Range.FirstOrDefault(),
                context.Request.Headers.Authorization.FirstOrDefault()));
            if (hub.RequiredToken is { } token && !context.Request.Path.StartsWithSegments("/cdn"))
            {
                var auth = context.Request.Headers.Authorization.FirstOrDefault();
                if (auth is null) { context.Response.StatusCode = 401; return; }
                if (auth != $"Bearer {token}") { context.Response.StatusCode = 403; return; }
            }
            await next(context);
        });
        app.MapGet("/api/datasets/{owner}/{name}/parquet/{config}/{split}", (string owner, string name, string config, string split) =>
        {
            var prefix = $"{owner}/{name}/{config}/{split}/";
            var files = hub!.Files.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            return files.Count == 0
                ? Results.NotFound()
                : Results.Json(files.Select(f => new Uri(hub.Endpoint, $"datasets/{owner}/{name}/resolve/refs%2Fconvert%2Fparquet/{f[(owner.Length + name.Length + 2)..]}").AbsoluteUri));
        });
        app.MapGet("/api/datasets/{owner}/{name}/parquet", (string owner, string name) =>
        {
            var prefix = $"{owner}/{name}/";
            var splits = hub!.Files.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
                .Select(k => k[prefix.Length..].Split('/')).GroupBy(p => p[0])
                .ToDictionary(c => c.Key, c => c.GroupBy(p => p[1]).ToDictionary(s => s.Key, s => s.Select(p => string.Join('/', p)).ToArray()));
            return splits.Count == 0 ? Results.NotFound() : Results.Json(splits);
        });
        app.MapGet("/api/datasets/{owner}/{name}/tree/{revision}/{config}/{split}", (string owner, string name, string revision, string config, string split) =>
        {
            var prefix = $"{owner}/{name}/{config}/{split}/";
            return Results.Json(hub!.Files.Where(f => f.Key.StartsWith(prefix, StringComparison.Ordinal))
                .Select(f => new { type = "file", path = f.Key[(owner.Length + name.Length + 2)..], size = f.Value.Length })
                .Append(new { type = "directory", path = $"{config}/{split}/nested", size = 0 }));
        });
        // The Hub redirects file downloads to its CDN.
        app.MapMethods("/datasets/{owner}/{name}/resolve/{revision}/{**path}", ["GET", "HEAD"], (string owner, string name, string path) =>
            hub!.Files.ContainsKey($"{owner}/{name}/{path}") ? Results.Redirect($"/cdn/{owner}/{name}/{path}") : Results.NotFound());
        app.MapMethods("/cdn/{**key}", ["GET", "HEAD"], (HttpContext context, string key) => hub!.ServeAsync(context, key));

        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        hub = new FakeHub(app, new Uri(address.TrimEnd('/') + "/"));
        return hub;
    }

    /// <summary>Serves a file with Range/If-Range, or drops the connection part-way when told to.</summary>
    private async Task ServeAsync(HttpContext context, string key)
    {
        if (!Files.TryGetValue(key, out var bytes))
        {
            context.Response.StatusCode = 404;
            return;
        }
        var etag = ETagOverride ?? $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"";
        context.Response.Headers.ETag = etag;
        context.Response.Headers.AcceptRanges = "bytes";
        long from = 0;
        var range = context.Request.Headers.Range.FirstOrDefault();
        var ifRange = context.Request.Headers.IfRange.FirstOrDefault();
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && (ifRange is null || ifRange == etag))
        {
            from = long.Parse(range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture);
            if (from >= bytes.Length)
            {
                context.Response.StatusCode = 416;
                return;
            }
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {from}-{bytes.Length - 1}/{bytes.Length}";
        }
        context.Response.ContentLength = bytes.Length - from;
        if (HttpMethods.IsHead(context.Request.Method)) return;

        if (from == 0 && DropNextDownloadAfter is { } drop)
        {
            DropNextDownloadAfter = null;
            // Fewer bytes than Content-Length, then the end of the handler: Kestrel closes the connection (FIN, not
            // an abortive reset that could discard bytes in flight), and the client sees the body end prematurely.
            await context.Response.Body.WriteAsync(bytes.AsMemory(0, drop));
            await context.Response.Body.FlushAsync();
            if (ResetOnDrop) context.Abort();
            return;
        }
        await context.Response.Body.WriteAsync(bytes.AsMemory((int)from));
    }

    /// <summary>A loopback URL on which nothing listens.</summary>
    public static Uri ClosedEndpoint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
