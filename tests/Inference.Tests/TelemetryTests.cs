using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using static SelfTaught.Inference.Tests.Sim;

namespace SelfTaught.Inference.Tests;

public class TelemetryTests
{
    [Fact]
    public async Task EveryCall_EmitsAnOpenTelemetryActivity_WithModelAndTokenCounts()
    {
        await using var sim = await StartAsync();
        var (registry, _) = Registry(null, OllamaEndpoint(sim, "traced"));
        var activities = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ChatClientFactory.TelemetrySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Add,
        };
        ActivitySource.AddActivityListener(listener);

        await registry.Resolve("sim-judge").Client.GetResponseAsync([new ChatMessage(ChatRole.User, "Trace me.")], new ChatOptions { Temperature = 0.5f }, Ct);

        var activity = Assert.Single(activities, a => a.GetTagItem("gen_ai.request.model") as string == "sim-judge");
        Assert.True(Convert.ToInt64(activity.GetTagItem("gen_ai.usage.output_tokens"), System.Globalization.CultureInfo.InvariantCulture) > 0);
    }
}
