using System.Net;
using Hangfire.Dashboard;

namespace SelfTaught.Web.JobDashboard;

/// <summary>
/// Lets only requests from this machine (loopback) into the Hangfire dashboard, which can delete and re-run jobs.
/// A request without a remote address (in-process test servers) is denied: its origin is unknown.
/// </summary>
public sealed class LoopbackOnlyDashboardAuthorizationFilter : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) =>
        IsLoopback(context.GetHttpContext().Connection.RemoteIpAddress);

    /// <summary>True for 127.0.0.0/8 and ::1, including IPv4 addresses mapped to IPv6.</summary>
    public static bool IsLoopback(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return IPAddress.IsLoopback(address);
    }
}
