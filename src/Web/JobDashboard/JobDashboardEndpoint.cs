using Hangfire;

namespace SelfTaught.Web.JobDashboard;

/// <summary>Maps the Hangfire dashboard at <c>/hangfire</c>, reachable from this machine only.</summary>
public static class JobDashboardEndpoint
{
    public const string Route = "/hangfire";

    public static IEndpointConventionBuilder MapJobDashboard(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapHangfireDashboard(Route, new DashboardOptions
        {
            Authorization = [new LoopbackOnlyDashboardAuthorizationFilter()],
            DashboardTitle = "SelfTaught jobs",
            AppPath = "/jobs",
        });
}
