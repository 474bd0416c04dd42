using Microsoft.AspNetCore.Http.HttpResults;
using SelfTaught.Inference;
using SelfTaught.Web.Backends;

namespace SelfTaught.Web.Api;

/// <summary>LLM endpoints under <c>/api/backends</c>: state, models, test chats, and the endpoints stored by Settings.</summary>
public static class BackendsApi
{
    public static RouteGroupBuilder MapBackendsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/backends").WithTags("Backends");

        group.MapGet("/", (EndpointRegistry registry, ChatClientFactory factory) =>
                TypedResults.Ok(registry.Endpoints.Select(e => BackendView.From(e, factory)).ToList()))
            .WithName("ListBackends")
            .WithSummary("Endpoints with health state, latency, models and usage; API keys appear only as their reference");

        group.MapPost("/{name}/test", TestAsync)
            .WithName("TestBackend")
            .WithSummary("Runs a tiny chat through the full middleware stack (optionally with ?model=)");

        group.MapPost("/{name}/check", CheckAsync)
            .WithName("CheckBackend")
            .WithSummary("Runs the endpoint's health check now");

        group.MapPost("/", async Task<Results<Created<BackendView>, ValidationProblem>> (EndpointForm form, BackendCatalog catalog,
                EndpointRegistry registry, ChatClientFactory factory, CancellationToken cancellationToken) =>
            {
                var errors = await catalog.SaveAsync(form, null, cancellationToken);
                if (errors.Count > 0) return Problem(errors);
                return TypedResults.Created($"/api/backends/{Uri.EscapeDataString(form.Name.Trim())}", BackendView.From(registry.Find(form.Name.Trim())!, factory));
            })
            .WithName("CreateBackend")
            .WithSummary("Stores a new endpoint (as the Settings page does)");

        group.MapPut("/{name}", async Task<Results<Ok<BackendView>, ValidationProblem, NotFound>> (string name, EndpointForm form, BackendCatalog catalog,
                EndpointRegistry registry, ChatClientFactory factory, CancellationToken cancellationToken) =>
            {
                if (registry.Find(name) is null) return TypedResults.NotFound();
                var errors = await catalog.SaveAsync(form, name, cancellationToken);
                if (errors.Count > 0) return Problem(errors);
                return TypedResults.Ok(BackendView.From(registry.Find(form.Name.Trim())!, factory));
            })
            .WithName("UpdateBackend")
            .WithSummary("Changes a stored endpoint");

        group.MapDelete("/{name}", async Task<Results<NoContent, NotFound, Conflict<string>>> (string name, BackendCatalog catalog,
                EndpointRegistry registry, CancellationToken cancellationToken) =>
            {
                if (registry.IsConfigured(name))
                    return TypedResults.Conflict($"Endpoint {BackendCatalog.DefinedInConfiguration(name)}");
                return await catalog.DeleteAsync(name, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();
            })
            .WithName("DeleteBackend")
            .WithSummary("Deletes a stored endpoint");

        return api;
    }

    private static async Task<Results<Ok<TestChatResult>, NotFound>> TestAsync(string name, EndpointRegistry registry,
        EndpointHealthChecker checker, CancellationToken cancellationToken, string? model = null)
    {
        var endpoint = registry.Find(name);
        if (endpoint is null) return TypedResults.NotFound();
        return TypedResults.Ok(await checker.TestChatAsync(endpoint, model, cancellationToken));
    }

    private static async Task<Results<Ok<BackendView>, NotFound>> CheckAsync(string name, EndpointRegistry registry,
        EndpointHealthChecker checker, ChatClientFactory factory, CancellationToken cancellationToken)
    {
        var endpoint = registry.Find(name);
        if (endpoint is null) return TypedResults.NotFound();
        await checker.CheckAsync(endpoint, cancellationToken);
        return TypedResults.Ok(BackendView.From(endpoint, factory));
    }

    private static ValidationProblem Problem(IReadOnlyList<string> errors) =>
        TypedResults.ValidationProblem(errors
            .GroupBy(e => e.Split(' ')[0].TrimEnd(':'))
            .ToDictionary(g => g.Key, g => g.ToArray()));
}
