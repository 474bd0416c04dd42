using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Experiments;

namespace SelfTaught.Core.Tests.Experiments;

public class ContaminationIndexTests
{
    private const string Benchmark = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether?";

    private static ContaminationIndex Index(int n = 13)
    {
        var index = new ContaminationIndex(n);
        index.Add(Benchmark, "gsm8k / test / 1");
        index.Add("Write a haiku about autumn.", "rb / alpacaeval-easy / 7");
        return index;
    }

    [Fact]
    public void Check_FindsAnExactMatch_AfterNormalization()
    {
        var hit = Index().Check("  write a HAIKU   about autumn. ");

        Assert.Equal(new ContaminationHit(ContaminationKind.ExactMatch, "rb / alpacaeval-easy / 7"), hit);
    }

    [Fact]
    public void Check_FindsASharedThirteenWordRun_InsideOtherText()
    {
        var hit = Index().Check("Please help: she sold half as many clips in May. How many clips did Natalia sell altogether? Show steps.");

        Assert.Equal(new ContaminationHit(ContaminationKind.NGramOverlap, "gsm8k / test / 1"), hit);
    }

    [Fact]
    public void Check_IgnoresPunctuationCaseAndTypographicQuotes_BetweenWords()
    {
        var hit = Index().Check("NATALIA — sold “clips” to 48, of her friends in April; and then she sold HALF as many");

        Assert.Equal(ContaminationKind.NGramOverlap, hit?.Kind);
    }

    [Fact]
    public void Check_PassesTwelveSharedWords_AtTheDefaultSize_ButNotAtTwelve()
    {
        // "sold half as many clips in May How many clips did Natalia" is 12 consecutive words of the benchmark.
        const string text = "Yesterday he sold half as many clips in May how many clips did Natalia buy";

        Assert.Null(Index().Check(text));
        Assert.Equal(ContaminationKind.NGramOverlap, Index(12).Check(text)?.Kind);
    }

    [Fact]
    public void Check_OfUnrelatedOrEmptyText_IsClean()
    {
        Assert.Null(Index().Check("Explain how a hash map handles collisions with open addressing and chaining in detail please."));
        Assert.Null(Index().Check("   "));
        Assert.Null(new ContaminationIndex(13).Check(Benchmark));
    }

    [Fact]
    public void NgramHashes_SeparateWords_SoJoinedWordsDoNotCollide()
    {
        var a = ContaminationIndex.NgramHashes("ab c", 2).Single();
        var b = ContaminationIndex.NgramHashes("a bc", 2).Single();

        Assert.NotEqual(a, b);
        Assert.Empty(ContaminationIndex.NgramHashes("one two", 3));
        Assert.Equal(3, ContaminationIndex.NgramHashes("one two three four five", 3).Count());
    }
}
