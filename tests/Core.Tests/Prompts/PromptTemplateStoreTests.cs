using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Tests.Prompts;

public class PromptTemplateStoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly DateTime Now = new(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    [Fact]
    public async Task EnsureAllBuiltInAsync_StoresEveryBuiltInOnce_AsVersion1WithItsTextAndSource()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();

        await using (var db = temp.Create())
            await PromptTemplateStore.EnsureAllBuiltInAsync(db, Now, Ct);
        await using var again = temp.Create();
        var second = await PromptTemplateStore.EnsureAllBuiltInAsync(again, Now.AddDays(1), Ct);

        var rows = await again.PromptTemplates.AsNoTracking().ToListAsync(Ct);
        Assert.Equal(PromptLibrary.BuiltInKeys.Order(), rows.Select(r => r.Key).Order());
        Assert.Equal(PromptLibrary.BuiltInKeys.Order(), second.Keys.Order());
        foreach (var row in rows)
        {
            var text = PromptLibrary.Get(row.Key);
            Assert.Equal((1, true, text.Source, text.SystemText, text.UserText, text.ContentHash, Now),
                (row.Version, row.IsBuiltIn, row.Source, row.SystemText, row.UserText, row.ContentHash, row.CreatedAt));
            Assert.Equal(row.Id, second[row.Key].Id);
        }
    }

    [Fact]
    public async Task EnsureBuiltInAsync_ReturnsTheJudgeTemplateRow_ForTheNewKeys()
    {
        using var temp = new TempDatabase();
        await temp.InitializeAsync();
        await using var db = temp.Create();

        var judge = await PromptTemplateStore.EnsureBuiltInAsync(db, PromptLibrary.JudgePairwise, Now, Ct);
        var synthesis = await PromptTemplateStore.EnsureBuiltInAsync(db, PromptLibrary.PairSynthesis, Now, Ct);

        Assert.Equal(PromptLibrary.Get(PromptLibrary.JudgePairwise).SystemText, judge.SystemText);
        Assert.Contains("User Question Modified", synthesis.UserText);
        Assert.NotEqual(judge.Id, synthesis.Id);
        Assert.Equal(2, await db.PromptTemplates.CountAsync(Ct));
    }
}
