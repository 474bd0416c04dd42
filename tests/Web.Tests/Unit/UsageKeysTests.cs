using SelfTaught.Core.Models;
using SelfTaught.Inference.Middleware;

namespace SelfTaught.Web.Tests.Unit;

/// <summary>Core and Inference reference no project, so the option and response-property keys they share are checked here.</summary>
public sealed class UsageKeysTests
{
    [Fact]
    public void CallUsageKeys_MatchWhatTheInferenceLayerWrites()
    {
        Assert.Equal(EndpointCallChatClient.LatencyMsKey, CallUsage.LatencyMsKey);
        Assert.Equal(EndpointCallChatClient.EndpointKey, CallUsage.EndpointKey);
    }

    [Fact]
    public void ChatChoicesKeys_MatchWhatTheInferenceLayerReadsAndWrites()
    {
        Assert.Equal(ChoicesChatClient.CountKey, ChatChoices.CountKey);
        Assert.Equal(ChoicesChatClient.TextsKey, ChatChoices.TextsKey);
        Assert.Equal(ChoicesChatClient.FinishReasonsKey, ChatChoices.FinishReasonsKey);
    }
}
