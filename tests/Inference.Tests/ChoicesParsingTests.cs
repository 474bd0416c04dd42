using System.Text.Json;
using Microsoft.Extensions.AI;
using SelfTaught.Inference.Middleware;

namespace SelfTaught.Inference.Tests;

/// <summary>The pure parts of <see cref="ChoicesChatClient"/>: reading the requested count and the raw choices.</summary>
public class ChoicesParsingTests
{
    private static ChatOptions With(object? value) => new() { AdditionalProperties = new() { [ChoicesChatClient.CountKey] = value } };

    [Fact]
    public void RequestedCount_IsOne_WhenTheKeyIsAbsent()
    {
        Assert.Equal(1, ChoicesChatClient.RequestedCount(null));
        Assert.Equal(1, ChoicesChatClient.RequestedCount(new ChatOptions()));
        Assert.Equal(1, ChoicesChatClient.RequestedCount(new ChatOptions { AdditionalProperties = new() { ["other"] = 5 } }));
    }

    [Fact]
    public void RequestedCount_ReadsIntsLongsAndJsonNumbers()
    {
        Assert.Equal(4, ChoicesChatClient.RequestedCount(With(4)));
        Assert.Equal(15, ChoicesChatClient.RequestedCount(With(15L)));
        Assert.Equal(8, ChoicesChatClient.RequestedCount(With(JsonDocument.Parse("8").RootElement)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData("4")]
    [InlineData(2.5)]
    [InlineData(null)]
    public void RequestedCount_RejectsAnythingButAWholeNumberOfAtLeastOne_NamingTheKey(object? value)
    {
        var error = Assert.Throws<ArgumentException>(() => ChoicesChatClient.RequestedCount(With(value)));

        Assert.Contains(ChoicesChatClient.CountKey, error.Message);
        Assert.Contains(value is null ? "null" : $"'{Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)}'", error.Message);
    }

    [Fact]
    public void ReadChoices_OrdersByIndex_AndReadsNullContentAsEmpty()
    {
        var json = BinaryData.FromString("""
            {"choices":[
              {"index":2,"message":{"role":"assistant","content":"c"},"finish_reason":"length"},
              {"index":0,"message":{"role":"assistant","content":"a"},"finish_reason":"stop"},
              {"index":1,"message":{"role":"assistant","content":null,"refusal":"no"},"finish_reason":null}]}
            """);

        var choices = ChoicesChatClient.ReadChoices(json);

        Assert.Equal([("a", "stop"), ("", null), ("c", "length")], choices);
    }

    [Theory]
    [InlineData("""{"id":"x"}""", "no \"choices\" array")]
    [InlineData("""{"choices":[{"index":0,"message":{"content":"a"}},{"index":0,"message":{"content":"b"}}]}""", "indices are 0, 0")]
    [InlineData("""{"choices":[{"index":1,"message":{"content":"a"}}]}""", "indices are 1")]
    public void ReadChoices_RejectsAnswersWithoutAUsableChoiceList(string json, string expected)
    {
        var error = Assert.Throws<FormatException>(() => ChoicesChatClient.ReadChoices(BinaryData.FromString(json)));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ChoicesNotAccepted_IsNeverRetried_EvenWhenItWrapsAServerError()
    {
        var http = new BackendHttpException(System.Net.HttpStatusCode.InternalServerError, "Internal Server Error", ChoicesChatClient.LlamaCppRefusal, null);
        var refused = new ChoicesNotAcceptedException("refused", http);

        Assert.True(RetryingChatClient.IsTransient(http, out _));
        Assert.False(RetryingChatClient.IsTransient(refused, out _));
        Assert.Equal("refused", EndpointCallChatClient.Problem(refused));
    }
}
