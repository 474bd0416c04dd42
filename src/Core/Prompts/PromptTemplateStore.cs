using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Prompts;

/// <summary>Keeps the built-in templates as versioned rows, so every stored result can name the exact version it used.</summary>
public static class PromptTemplateStore
{
    /// <summary>
    /// The row of the built-in template <paramref name="key"/>: the latest built-in version if its text is unchanged,
    /// otherwise a new version (a changed built-in never rewrites the version old results point at).
    /// </summary>
    public static async Task<PromptTemplate> EnsureBuiltInAsync(SelfTaughtDbContext db, string key, DateTime now, CancellationToken cancellationToken)
    {
        var text = PromptLibrary.Get(key);
        var existing = await db.PromptTemplates.AsNoTracking()
            .Where(t => t.Key == key && t.IsBuiltIn && t.ContentHash == text.ContentHash)
            .OrderByDescending(t => t.Version).FirstOrDefaultAsync(cancellationToken);
        if (existing is not null) return existing;

        var version = (await db.PromptTemplates.Where(t => t.Key == key).MaxAsync(t => (int?)t.Version, cancellationToken) ?? 0) + 1;
        await db.InsertOrIgnoreAsync([new PromptTemplate
        {
            Key = key, Version = version, Name = text.Name, Source = text.Source, SystemText = text.SystemText, UserText = text.UserText,
            IsBuiltIn = true, ContentHash = text.ContentHash, CreatedAt = now,
        }], cancellationToken);
        // Another process may have inserted the same version first; either way the row with this text exists now.
        return await db.PromptTemplates.AsNoTracking()
            .Where(t => t.Key == key && t.ContentHash == text.ContentHash).OrderByDescending(t => t.Version).FirstAsync(cancellationToken);
    }

    /// <summary>
    /// Registers every built-in template (<see cref="PromptLibrary.BuiltInKeys"/>) as <see cref="EnsureBuiltInAsync"/> does,
    /// so the Settings page lists them before any stage has used them; returns the current row of each, by key.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, PromptTemplate>> EnsureAllBuiltInAsync(SelfTaughtDbContext db, DateTime now, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, PromptTemplate>(StringComparer.Ordinal);
        foreach (var key in PromptLibrary.BuiltInKeys)
            rows[key] = await EnsureBuiltInAsync(db, key, now, cancellationToken);
        return rows;
    }
}
