using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Inference;

namespace SelfTaught.Web.Backends;

/// <summary>An endpoint as the Settings page and <c>POST/PUT /api/backends</c> submit it. The API key is only ever a reference.</summary>
public sealed class EndpointForm
{
    public string Name { get; set; } = "";
    public EndpointKind Kind { get; set; } = EndpointKind.Ollama;
    public string BaseUrl { get; set; } = "http://localhost:11434";
    public string? DefaultModel { get; set; }
    public int MaxConcurrentRequests { get; set; } = 4;
    public int RequestTimeoutSeconds { get; set; } = 600;
    /// <summary>Where the key is: an environment variable such as VLLM_API_KEY or HF_TOKEN, or a configuration key Inference:ApiKeys:&lt;name&gt;.</summary>
    public string? ApiKeyReference { get; set; }
    public int? NumCtx { get; set; }
    public bool? AcceptsN { get; set; }

    internal EndpointOptions ToOptions() => new()
    {
        Name = Name.Trim(), Kind = Kind, BaseUrl = BaseUrl.Trim(), DefaultModel = Blank(DefaultModel),
        MaxConcurrentRequests = MaxConcurrentRequests, RequestTimeoutSeconds = RequestTimeoutSeconds,
        ApiKeyReference = Blank(ApiKeyReference), NumCtx = NumCtx, AcceptsN = AcceptsN,
    };

    /// <summary>A form filled from an existing endpoint's settings.</summary>
    public static EndpointForm From(EndpointOptions e) => new()
    {
        Name = e.Name, Kind = e.Kind, BaseUrl = e.BaseUrl, DefaultModel = e.DefaultModel, MaxConcurrentRequests = e.MaxConcurrentRequests,
        RequestTimeoutSeconds = e.RequestTimeoutSeconds, ApiKeyReference = e.ApiKeyReference, NumCtx = e.NumCtx, AcceptsN = e.AcceptsN,
    };

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>
/// Endpoints stored by the Settings page: persisted in the database and pushed into the <see cref="EndpointRegistry"/>
/// so new requests use them at once (the built-in default local Ollama gives way to them). Endpoints from
/// configuration are read-only here. <see cref="EndpointOptions.MaxTokensField"/> is configuration-only: stored
/// endpoints use its default.
/// </summary>
public sealed class BackendCatalog(IDbContextFactory<SelfTaughtDbContext> contextFactory, EndpointRegistry registry, TimeProvider time)
{
    /// <summary>Why an endpoint cannot be changed here, e.g. "'vllm' is defined in configuration (Inference:Endpoints); change it there."</summary>
    public static string DefinedInConfiguration(string name) =>
        $"'{name}' is defined in configuration ({InferenceOptions.SectionName}:Endpoints); change it there.";

    /// <summary>Loads the stored endpoints into the registry (at start-up and after every change).</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await using var db = await contextFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.BackendEndpoints.AsNoTracking().Where(e => e.Enabled).OrderBy(e => e.Name).ToListAsync(cancellationToken);
        registry.SetStoredEndpoints(rows.Select(ToOptions));
    }

    /// <summary>Creates or (when <paramref name="existingName"/> is set) updates a stored endpoint.</summary>
    /// <returns>Problems that prevented saving, each naming its field; empty on success.</returns>
    public async Task<IReadOnlyList<string>> SaveAsync(EndpointForm form, string? existingName, CancellationToken cancellationToken)
    {
        var options = form.ToOptions();
        var errors = InferenceOptionsValidator.ValidateEndpoint(options, "endpoint").ToList();
        // Only endpoints from Inference:Endpoints are off limits; the built-in default may be shadowed (storing any
        // endpoint replaces it).
        if (registry.IsConfigured(options.Name))
            errors.Add($"endpoint:Name {DefinedInConfiguration(options.Name)}");
        else if (existingName is not null && registry.IsConfigured(existingName))
            errors.Add($"endpoint:Name {DefinedInConfiguration(existingName)}");
        if (errors.Count > 0) return errors;

        await using var db = await contextFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var row = existingName is null ? null : await db.BackendEndpoints.SingleOrDefaultAsync(e => e.Name == existingName, cancellationToken);
        if (existingName is not null && row is null) return [$"endpoint: no stored endpoint named '{existingName}'."];
        if (await db.BackendEndpoints.AnyAsync(e => e.Name == options.Name && (row == null || e.Id != row.Id), cancellationToken))
            return [$"endpoint:Name '{options.Name}' is already used by another endpoint."];

        if (row is null)
        {
            row = new BackendEndpoint { Name = options.Name, BaseUrl = options.BaseUrl, CreatedAt = now };
            db.BackendEndpoints.Add(row);
        }
        Apply(options, row);
        row.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        await LoadAsync(cancellationToken);
        return [];
    }

    /// <summary>Deletes a stored endpoint; false if there is none of that name.</summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await contextFactory.CreateDbContextAsync(cancellationToken);
        var deleted = await db.BackendEndpoints.Where(e => e.Name == name).ExecuteDeleteAsync(cancellationToken);
        await LoadAsync(cancellationToken);
        return deleted > 0;
    }

    internal static EndpointOptions ToOptions(BackendEndpoint row) => new()
    {
        Name = row.Name,
        Kind = row.Kind == BackendKind.Ollama ? EndpointKind.Ollama : EndpointKind.OpenAICompatible,
        BaseUrl = row.BaseUrl, DefaultModel = row.DefaultModel, MaxConcurrentRequests = row.MaxConcurrentRequests,
        RequestTimeoutSeconds = row.RequestTimeoutSeconds, ApiKeyReference = row.ApiKeyReference, NumCtx = row.NumCtx, AcceptsN = row.AcceptsN,
    };

    private static void Apply(EndpointOptions options, BackendEndpoint row)
    {
        row.Name = options.Name;
        row.Kind = options.Kind == EndpointKind.Ollama ? BackendKind.Ollama : BackendKind.OpenAICompatible;
        row.BaseUrl = options.BaseUrl;
        row.DefaultModel = options.DefaultModel;
        row.MaxConcurrentRequests = options.MaxConcurrentRequests;
        row.RequestTimeoutSeconds = options.RequestTimeoutSeconds;
        row.ApiKeyReference = options.ApiKeyReference;
        row.NumCtx = options.NumCtx;
        row.AcceptsN = options.AcceptsN;
        row.Enabled = true;
    }
}
