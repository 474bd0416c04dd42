using System.Text.Json;
using SelfTaught.Core.Prompts;

namespace SelfTaught.Web.Api;

/// <summary>A template version as <c>GET /api/templates</c> lists it.</summary>
/// <param name="Id">Row id: what records (annotations, pairs, iterations) store.</param>
/// <param name="Key">Family, e.g. <c>judge-pairwise</c>.</param>
/// <param name="Version">Version within the family.</param>
/// <param name="Name">Name.</param>
/// <param name="Source">Where the text comes from (paper figure, or the version it was copied from).</param>
/// <param name="IsBuiltIn">Registered from the embedded files; never edited nor deleted.</param>
/// <param name="ParentId">Id of the version it was copied from.</param>
/// <param name="ParentVersion">That version's number.</param>
/// <param name="ContentHash">SHA-256 of system and user text.</param>
/// <param name="Placeholders">Placeholders of its texts.</param>
/// <param name="Usage">Stored records naming it, by kind, with their <c>total</c>.</param>
/// <param name="Deletable">Custom and unused.</param>
/// <param name="CreatedAt">When it was stored (UTC).</param>
public sealed record TemplateVersionView(long Id, string Key, int Version, string Name, string? Source, bool IsBuiltIn, long? ParentId, int? ParentVersion,
    string ContentHash, IReadOnlyList<string> Placeholders, TemplateUsage Usage, bool Deletable, DateTime CreatedAt)
{
    /// <summary>The API form of <paramref name="s"/>.</summary>
    public static TemplateVersionView From(TemplateSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new(s.Id, s.Key, s.Version, s.Name, s.Source, s.IsBuiltIn, s.ParentId, s.ParentVersion, s.ContentHash, s.Placeholders, s.Usage, s.Deletable, s.CreatedAt);
    }
}

/// <summary>A template family with its versions, newest first.</summary>
/// <param name="Key">Family key.</param>
/// <param name="RequiredPlaceholders">The placeholders its stage fills: a copy's user text must contain exactly these.</param>
/// <param name="Versions">Newest first.</param>
public sealed record TemplateFamilyView(string Key, IReadOnlyList<string> RequiredPlaceholders, IReadOnlyList<TemplateVersionView> Versions);

/// <summary>One template version with its texts (<c>GET /api/templates/{id}</c>, and the answer to a copy).</summary>
/// <param name="Id">Row id.</param>
/// <param name="Key">Family.</param>
/// <param name="Version">Version within the family.</param>
/// <param name="Name">Name.</param>
/// <param name="Source">Where the text comes from.</param>
/// <param name="IsBuiltIn">Built in.</param>
/// <param name="ParentId">Id of the version it was copied from.</param>
/// <param name="ParentVersion">That version's number.</param>
/// <param name="ContentHash">SHA-256 of system and user text.</param>
/// <param name="Placeholders">Placeholders of its texts.</param>
/// <param name="RequiredPlaceholders">What a copy's user text must contain.</param>
/// <param name="Usage">Stored records naming it.</param>
/// <param name="Deletable">Custom and unused.</param>
/// <param name="CreatedAt">When it was stored (UTC).</param>
/// <param name="SystemText">System message, if any.</param>
/// <param name="UserText">User message with placeholders.</param>
public sealed record TemplateDetailView(long Id, string Key, int Version, string Name, string? Source, bool IsBuiltIn, long? ParentId, int? ParentVersion,
    string ContentHash, IReadOnlyList<string> Placeholders, IReadOnlyList<string> RequiredPlaceholders, TemplateUsage Usage, bool Deletable, DateTime CreatedAt,
    string? SystemText, string UserText)
{
    /// <summary>The API form of <paramref name="d"/>.</summary>
    public static TemplateDetailView From(TemplateDetail d)
    {
        ArgumentNullException.ThrowIfNull(d);
        var s = d.Summary;
        return new(s.Id, s.Key, s.Version, s.Name, s.Source, s.IsBuiltIn, s.ParentId, s.ParentVersion, s.ContentHash, s.Placeholders, d.RequiredPlaceholders,
            s.Usage, s.Deletable, s.CreatedAt, d.SystemText, d.UserText);
    }
}

/// <summary>Prompt-template routes: list, read, copy into a new version, delete, and an iteration's judge template.</summary>
public static class TemplatesApi
{
    /// <summary>Maps the routes under <c>/api</c>.</summary>
    public static RouteGroupBuilder MapTemplatesApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var group = api.MapGroup("/templates").WithTags("Templates");
        group.MapGet("/", ListAsync).WithName("ListTemplates")
            .WithSummary("Every prompt-template version by family (newest first), with placeholders, lineage, content hash and usage");
        group.MapGet("/{id:long}", GetAsync).WithName("GetTemplate")
            .WithSummary("One template version with its system and user text");
        group.MapPost("/{id:long}/copy", CopyAsync).WithName("CopyTemplate")
            .WithSummary("Copy a version into a new custom version of its family with edited text { name, systemText, userText }; the user text must hold exactly the family's placeholders");
        group.MapDelete("/{id:long}", DeleteAsync).WithName("DeleteTemplate")
            .WithSummary("Delete a custom version that no record uses (409 for built-ins and used versions, saying where they are used)");
        api.MapPut("/experiments/{id:long}/iterations/{n:int}/judge-template", SetJudgeTemplateAsync).WithTags("Templates", "Iterations")
            .WithName("SetIterationJudgeTemplate")
            .WithSummary("Choose the judge-pairwise template version of an iteration ({ templateId }, null for the built-in) before it has judged anything");
        return api;
    }

    private static async Task<IResult> ListAsync(PromptTemplateService templates, CancellationToken cancellationToken) =>
        TypedResults.Ok((await templates.ListAsync(cancellationToken))
            .Select(f => new TemplateFamilyView(f.Key, f.RequiredPlaceholders, [.. f.Versions.Select(TemplateVersionView.From)])).ToList());

    private static async Task<IResult> GetAsync(long id, PromptTemplateService templates, CancellationToken cancellationToken) =>
        await templates.GetAsync(id, cancellationToken) is { } detail
            ? TypedResults.Ok(TemplateDetailView.From(detail))
            : Problem(StatusCodes.Status404NotFound, $"Prompt template {id} does not exist.");

    private static async Task<IResult> CopyAsync(long id, HttpRequest http, PromptTemplateService templates, CancellationToken cancellationToken)
    {
        var (body, error) = await ReadObjectAsync(http, "a template edit { \"name\", \"systemText\", \"userText\" }", cancellationToken);
        if (error is not null) return error;
        TemplateEdit? edit;
        try
        {
            edit = body!.Value.Deserialize<TemplateEdit>(JsonSerializerOptions.Web);
        }
        catch (JsonException ex)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The body is not a valid template edit: {ex.Message}"] });
        }
        try
        {
            var copy = await templates.CopyAsync(id, edit!, cancellationToken);
            return TypedResults.Created($"/api/templates/{copy.Summary.Id}", TemplateDetailView.From(copy));
        }
        catch (PromptTemplateException ex)
        {
            return Problem(ex);
        }
    }

    private static async Task<IResult> DeleteAsync(long id, PromptTemplateService templates, CancellationToken cancellationToken)
    {
        try
        {
            await templates.DeleteAsync(id, cancellationToken);
            return TypedResults.NoContent();
        }
        catch (PromptTemplateException ex)
        {
            return Problem(ex);
        }
    }

    private static async Task<IResult> SetJudgeTemplateAsync(long id, int n, HttpRequest http, PromptTemplateService templates, CancellationToken cancellationToken)
    {
        const string Expected = "{ \"templateId\": 12 } (a judge-pairwise version id, or null for the built-in)";
        var (body, error) = await ReadObjectAsync(http, Expected, cancellationToken);
        if (error is not null) return error;
        // The property must be there: a misspelt one must not silently reset the judge to the built-in.
        var property = body!.Value.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, "templateId", StringComparison.OrdinalIgnoreCase));
        if (property.Value.ValueKind is not (JsonValueKind.Number or JsonValueKind.Null) || (property.Value.ValueKind == JsonValueKind.Number && !property.Value.TryGetInt64(out _)))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["templateId"] = [$"Send {Expected}."] });
        long? templateId = property.Value.ValueKind == JsonValueKind.Null ? null : property.Value.GetInt64();
        try
        {
            return TypedResults.Ok(await templates.SetIterationJudgeTemplateAsync(id, n, templateId, cancellationToken));
        }
        catch (PromptTemplateException ex)
        {
            return Problem(ex);
        }
    }

    /// <summary>Reads a JSON object body; anything else is a 400 naming what was expected.</summary>
    private static async Task<(JsonElement? Body, IResult? Error)> ReadObjectAsync(HttpRequest http, string expected, CancellationToken cancellationToken)
    {
        IResult Bad(string why) => TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"{why}; send {expected}."] });
        if (!http.HasJsonContentType()) return (null, Bad("The body must be JSON (Content-Type: application/json)"));
        try
        {
            var body = await http.ReadFromJsonAsync<JsonElement>(cancellationToken);
            return body.ValueKind == JsonValueKind.Object ? (body, null) : (null, Bad($"The body is a JSON {body.ValueKind.ToString().ToLowerInvariant()}, not an object"));
        }
        catch (Exception ex) when (ex is JsonException or BadHttpRequestException)
        {
            return (null, Bad($"The body is not valid JSON ({ex.Message})"));
        }
    }

    private static IResult Problem(PromptTemplateException ex) => ex.Kind switch
    {
        TemplateProblemKind.NotFound => Problem(StatusCodes.Status404NotFound, ex.Message),
        TemplateProblemKind.Conflict => Problem(StatusCodes.Status409Conflict, ex.Message),
        _ => TypedResults.ValidationProblem(ex.Errors, detail: ex.Message, title: "The template request is not valid"),
    };

    private static IResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status, title: status switch
    {
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status409Conflict => "Conflict",
        _ => "Bad request",
    });
}
