namespace SelfTaught.Web.Api;

/// <summary>The HTTP API under <c>/api</c>; every UI operation gets a twin here.</summary>
public static class ApiEndpoints
{
    public static RouteGroupBuilder MapApi(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGroup("/api")
            .MapDatasetsApi()
            .MapInstructionsApi()
            .MapBackendsApi()
            .MapStageRunsApi()
            .MapExperimentsApi()
            .MapIterationsApi()
            .MapTrainingSetsApi()
            .MapPairsApi()
            .MapTemplatesApi()
            .MapSelectionApi()
            .MapEvaluationsApi();
}
