using SelfTaught.Inference;

namespace SelfTaught.Web.Backends;

/// <summary>An endpoint as <c>GET /api/backends</c>, the Settings page and the Dashboard show it. Never carries the key itself.</summary>
public sealed record BackendView(
    string Name,
    EndpointKind Kind,
    string BaseUrl,
    string? DefaultModel,
    int MaxConcurrentRequests,
    int RequestTimeoutSeconds,
    int? NumCtx,
    bool AcceptsN,
    string Origin,
    string ApiKey,
    EndpointHealth State,
    int? LatencyMs,
    DateTime? CheckedAt,
    string? Error,
    string? Version,
    IReadOnlyList<ServedModel> Models,
    long Outstanding,
    long Requests,
    long Failures,
    long PromptTokens,
    long CompletionTokens)
{
    /// <summary>Describes an endpoint's live state; the API key appears only as its reference and whether it is set.</summary>
    public static BackendView From(EndpointState e, ChatClientFactory factory)
    {
        var usage = e.Usage;
        var health = e.Health;
        return new BackendView(e.Name, e.Options.Kind, e.Options.BaseUrl, e.Options.DefaultModel, e.Options.MaxConcurrentRequests,
            e.Options.RequestTimeoutSeconds, e.Options.NumCtx, e.AcceptsN, e.Origin, MaskedKey(e.Options, factory), health.State,
            health.LatencyMs, health.CheckedAt, health.Error, health.Version, health.Models, e.Outstanding,
            usage.Requests, usage.Failures, usage.PromptTokens, usage.CompletionTokens);
    }

    private static string MaskedKey(EndpointOptions options, ChatClientFactory factory) => options.ApiKeyReference switch
    {
        null => "none",
        // Stored before references were restricted; not echoed, since it might be the key itself.
        { } reference when !ApiKeyReferences.IsValid(reference) => "not used: the reference is not an accepted form; edit the endpoint",
        { } reference => factory.ApiKey(options) is { Length: > 0 } ? $"•••• (from {reference})" : $"missing: {reference} is not set",
    };
}
