using Microsoft.Extensions.AI;
using SelfTaught.Core.Models;

namespace SelfTaught.Core.Tests.Models;

public class ChatChoicesTests
{
    [Fact]
    public void Read_FallsBackToTheSingleResponse_WhenTheChoiceKeysAreAbsent()
    {
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, "Final verdict: [[A]]")) { FinishReason = ChatFinishReason.Length };

        var choices = ChatChoices.Read(response);

        Assert.Equal([new ChatChoice(0, "Final verdict: [[A]]", "length")], choices);
    }

    [Fact]
    public void Read_FallsBackToTheSingleResponse_WhenTheTextsAreEmptyOrOfAnotherType()
    {
        var empty = new ChatResponse(new ChatMessage(ChatRole.Assistant, "one")) { AdditionalProperties = new() { [ChatChoices.TextsKey] = Array.Empty<string>() } };
        var wrongType = new ChatResponse(new ChatMessage(ChatRole.Assistant, "one")) { AdditionalProperties = new() { [ChatChoices.TextsKey] = "a,b" } };

        Assert.Equal([new ChatChoice(0, "one", null)], ChatChoices.Read(empty));
        Assert.Equal([new ChatChoice(0, "one", null)], ChatChoices.Read(wrongType));
    }

    [Fact]
    public void Read_ReturnsEveryRecordedChoiceInIndexOrder_WithItsFinishReason()
    {
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, "a"))
        {
            AdditionalProperties = new()
            {
                [ChatChoices.TextsKey] = new[] { "a", "b", "c" },
                [ChatChoices.FinishReasonsKey] = new string?[] { "stop", null, "length" },
            },
        };

        Assert.Equal([new ChatChoice(0, "a", "stop"), new ChatChoice(1, "b", null), new ChatChoice(2, "c", "length")], ChatChoices.Read(response));
    }

    [Fact]
    public void Read_GivesNullFinishReasons_WhenTheyAreMissing()
    {
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, "a")) { AdditionalProperties = new() { [ChatChoices.TextsKey] = new[] { "a", "b" } } };

        Assert.Equal([new ChatChoice(0, "a", null), new ChatChoice(1, "b", null)], ChatChoices.Read(response));
    }

    [Fact]
    public void WithCount_AddsTheKeyToACopy_AndLeavesACountOfOneOut()
    {
        var original = new ChatOptions { Seed = 5, AdditionalProperties = new() { ["other"] = 1 } };

        var four = ChatChoices.WithCount(original, 4);
        var one = ChatChoices.WithCount(original, 1);

        Assert.Equal(4, four.AdditionalProperties?[ChatChoices.CountKey]);
        Assert.Equal(1, four.AdditionalProperties?["other"]);
        Assert.Equal(5, four.Seed);
        Assert.False(original.AdditionalProperties.ContainsKey(ChatChoices.CountKey));
        Assert.False(one.AdditionalProperties?.ContainsKey(ChatChoices.CountKey));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChatChoices.WithCount(original, 0));
    }
}
