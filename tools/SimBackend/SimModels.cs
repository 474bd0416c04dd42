using System.Security.Cryptography;
using System.Text;

namespace SelfTaught.SimBackend;

/// <summary>Model names, identities and the metadata the listing routes report.</summary>
public static class SimModels
{
    /// <summary>The name without Ollama's implicit <c>:latest</c> tag.</summary>
    public static string BaseName(string model) =>
        model.EndsWith(":latest", StringComparison.Ordinal) ? model[..^":latest".Length] : model;

    /// <summary>
    /// The served model a requested name refers to (<c>x</c> and <c>x:latest</c> are the same model), or null when the
    /// server does not serve it.
    /// </summary>
    public static string? Resolve(string? requested, SimOptions options)
    {
        if (string.IsNullOrWhiteSpace(requested)) return null;
        var wanted = BaseName(requested.Trim());
        foreach (var model in options.Models)
        {
            if (string.Equals(BaseName(model), wanted, StringComparison.Ordinal)) return model;
        }

        return options.AcceptAnyModel ? requested.Trim() : null;
    }

    /// <summary>Ollama-style digest: 64 lower-case hex characters, stable for a model name.</summary>
    public static string Digest(string model) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("selftaught-simbackend/" + BaseName(model))));

    /// <summary>Model name as <c>/api/tags</c> lists it (with a tag).</summary>
    public static string TaggedName(string model) => model.Contains(':', StringComparison.Ordinal) ? model : model + ":latest";

    internal static long SizeBytes(string model) =>
        3_800_000_000L + (long)(BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(BaseName(model))), 0) % 1_000_000_000UL);

    internal static DateTimeOffset ModifiedAt(string model) =>
        new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero)
            .AddSeconds((long)(BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes("m/" + BaseName(model))), 0) % 15_000_000UL));
}
