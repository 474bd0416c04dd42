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
    /// The version of family <paramref name="key"/> a stage uses: <paramref name="templateId"/> when one is chosen,
    /// else the built-in one (registered if need be).
    /// </summary>
    /// <exception cref="PromptTemplateException">The chosen version does not exist (NotFound) or is of another family (Invalid).</exception>
    public static async Task<PromptTemplate> ChosenOrBuiltInAsync(SelfTaughtDbContext db, long? templateId, string key, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (templateId is not { } id) return await EnsureBuiltInAsync(db, key, now, cancellationToken);
        var template = await db.PromptTemplates.AsNoTracking().SingleOrDefaultAsync(t => t.Id == id, cancellationToken)
            ?? throw new PromptTemplateException($"Prompt template {id} does not exist (it may have been deleted); choose another version of '{key}'.", TemplateProblemKind.NotFound);
        return template.Key == key ? template
            : throw new PromptTemplateException($"Prompt template {id} is a '{template.Key}' template, not a '{key}' one.", TemplateProblemKind.Invalid);
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
