namespace SelfTaught.Jobs.Tests;

/// <summary>Files of the shared data sets (../shared/data beside the repository), found by walking up from the test binaries.</summary>
internal static class SharedData
{
    public static string File(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine([dir.FullName, "shared", "data", .. parts]);
            if (System.IO.File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"shared/data/{string.Join('/', parts)} not found above {AppContext.BaseDirectory}.");
    }
}
