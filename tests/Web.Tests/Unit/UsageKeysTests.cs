using SelfTaught.Core.Models;
using SelfTaught.Inference.Middleware;

namespace SelfTaught.Web.Tests.Unit;

/// <summary>Core and Inference reference no project, so the response-property keys they share are checked here.</summary>
public sealed class UsageKeysTests
{
    [Fact]
    public void CallUsageKeys_MatchWhatTheInferenceLayerWrites()
    {
        Assert.Equal(EndpointCallChatClient.LatencyMsKey, CallUsage.LatencyMsKey);
        Assert.Equal(EndpointCallChatClient.EndpointKey, CallUsage.EndpointKey);
    }
}
