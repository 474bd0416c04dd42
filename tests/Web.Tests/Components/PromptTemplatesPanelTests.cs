using Bunit;
using Microsoft.EntityFrameworkCore;
using MudBlazor;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Prompts;
using SelfTaught.Web.Components.Pages.Settings;
using SelfTaught.Web.Tests.Infrastructure;

namespace SelfTaught.Web.Tests.Components;

/// <summary>The Settings page's prompt templates: versions by family, view, copy and edit with live checks, delete.</summary>
public sealed class PromptTemplatesPanelTests : DatabaseBunitContext
{
    private static readonly DateTime Now = new(2025, 2, 3, 4, 5, 6, DateTimeKind.Utc);

    private async Task<IReadOnlyDictionary<string, PromptTemplate>> RegisterBuiltInsAsync()
    {
        await using var db = Database.CreateContext();
        return await PromptTemplateStore.EnsureAllBuiltInAsync(db, Now, Cancellation);
    }

    /// <summary>Stores a custom judge version copied from <paramref name="parent"/>, as the service would.</summary>
    private async Task<PromptTemplate> AddJudgeCopyAsync(PromptTemplate parent, string name, string extra, int version)
    {
        var text = PromptLibrary.Get(PromptLibrary.JudgePairwise);
        var row = new PromptTemplate
        {
            Key = PromptLibrary.JudgePairwise, Version = version, Name = name, SystemText = text.SystemText + extra, UserText = text.UserText,
            ParentId = parent.Id, ContentHash = PromptTemplateRules.ContentHash(text.SystemText + extra, text.UserText), CreatedAt = Now,
            Source = "Copy of version 1, edited on the Settings page.",
        };
        await Database.AddAsync(Cancellation, row);
        return row;
    }

    /// <summary>Iteration 1 of a new experiment, judged with template <paramref name="templateId"/>.</summary>
    private async Task<long> AddIterationAsync(long? templateId)
    {
        await using var db = Database.CreateContext();
        var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, CreatedAt = Now };
        var experiment = new Experiment { Name = "paper", InstructionDataset = dataset, SeedModel = "m", GeneratorModel = "m", JudgeModel = "m", CreatedAt = Now };
        var iteration = new Iteration { Experiment = experiment, Number = 1, JudgeModel = "m", JudgeTemplateId = templateId, CreatedAt = Now };
        db.AddRange(dataset, experiment, iteration);
        await db.SaveChangesAsync(Cancellation);
        return iteration.Id;
    }

    private static IRenderedComponent<MudTextField<string>> Field(IRenderedComponent<PromptTemplatesPanel> cut, string label) =>
        cut.FindComponents<MudTextField<string>>().Single(f => f.Instance.Label == label);

    private static string Row(IRenderedComponent<PromptTemplatesPanel> cut, long id) => cut.Find($"tr[data-template-id='{id}']").TextContent;

    [Fact]
    public async Task SettingsPage_ListsEveryFamilyWithItsVersions_BuiltInsMarked_AndWhatUsesThem()
    {
        var builtIns = await RegisterBuiltInsAsync();
        var used = await AddJudgeCopyAsync(builtIns[PromptLibrary.JudgePairwise], "step by step", " Think step by step.", 2);
        var unused = await AddJudgeCopyAsync(builtIns[PromptLibrary.JudgePairwise], "brief", " Be brief.", 3);
        await AddIterationAsync(used.Id);

        var cut = Render<SettingsPage>();

        cut.WaitForAssertion(() => Assert.Equal(PromptLibrary.BuiltInKeys.Order(StringComparer.Ordinal),
            cut.FindAll("[data-template-key]").Select(e => e.GetAttribute("data-template-key"))));
        var judge = cut.Find($"#templates-{PromptLibrary.JudgePairwise}");
        Assert.Contains("Its stage fills {instruction}, {response A}, {response B}.", judge.TextContent);
        var rows = judge.QuerySelectorAll("tbody tr");
        Assert.Equal(["v3", "v2", "v1"], rows.Select(r => r.QuerySelector("td")!.TextContent.Trim()[..2]));
        Assert.Equal([false, false, true], rows.Select(r => r.QuerySelector("[data-testid=built-in]") is not null));
        Assert.Equal(["not used", "1 iteration's judge", "not used"], rows.Select(r => r.QuerySelector("[data-testid=usage]")!.TextContent.Trim()));
        Assert.Contains("Figure 8", rows[2].TextContent);
        // Built-ins have no Delete; a used custom version's Delete is disabled and says why.
        Assert.Empty(cut.FindAll($"#template-delete-{builtIns[PromptLibrary.JudgePairwise].Id}"));
        Assert.True(cut.Find($"#template-delete-{used.Id}").HasAttribute("disabled"));
        Assert.Contains("Kept: used by 1 iteration's judge", cut.Find($"#template-delete-{used.Id}").GetAttribute("title"));
        Assert.False(cut.Find($"#template-delete-{unused.Id}").HasAttribute("disabled"));
        Assert.Empty(cut.FindAll("[data-testid=empty-state]"));
    }

    [Fact]
    public async Task CopyAndEdit_SavesTheNextVersion_WithTheEditedText_AndShowsIt()
    {
        var builtIns = await RegisterBuiltInsAsync();
        var judge = builtIns[PromptLibrary.JudgePairwise];
        var cut = Render<PromptTemplatesPanel>();
        cut.WaitForAssertion(() => cut.Find($"#template-copy-{judge.Id}"));

        await cut.InvokeAsync(() => cut.Find($"#template-copy-{judge.Id}").Click());

        // The unchanged copy is the built-in's text: saving is refused before it is tried.
        cut.WaitForAssertion(() => Assert.Contains("identical to v1", cut.Find("#template-validation").TextContent));
        Assert.True(cut.Find("#template-save").HasAttribute("disabled"));
        Assert.Equal(PromptLibrary.Get(PromptLibrary.JudgePairwise).UserText, Field(cut, "User text").Find("textarea").GetAttribute("value"));
        Assert.Equal(3, cut.FindAll("#template-placeholders [data-present=true]").Count);

        await cut.InvokeAsync(() => Field(cut, "Name").Find("input").Input("asks for reasons first"));
        await cut.InvokeAsync(() => Field(cut, "System text").Find("textarea")
            .Input(PromptLibrary.Get(PromptLibrary.JudgePairwise).SystemText + "\nList the reasons before the verdict."));
        cut.WaitForAssertion(() => Assert.False(cut.Find("#template-save").HasAttribute("disabled")));
        Assert.Empty(cut.FindAll("[data-testid=template-error]"));
        Assert.Contains("Save as v2", cut.Find("#template-save").TextContent);
        await cut.InvokeAsync(() => cut.Find("#template-save").Click());

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("#template-editor")));
        await using var db = Database.CreateContext();
        var saved = await db.PromptTemplates.AsNoTracking().SingleAsync(t => t.Key == PromptLibrary.JudgePairwise && t.Version == 2, Cancellation);
        Assert.Equal(("asks for reasons first", false, judge.Id), (saved.Name, saved.IsBuiltIn, saved.ParentId));
        Assert.EndsWith("List the reasons before the verdict.", saved.SystemText);
        Assert.Contains("asks for reasons first", Row(cut, saved.Id));
        // The new version opens in the read-only view, its texts in monospace blocks.
        Assert.EndsWith("List the reasons before the verdict.", cut.Find("#template-view-system").TextContent);
        Assert.Equal("pre", cut.Find("#template-view-user").TagName.ToLowerInvariant());
        Assert.Equal(saved.UserText, cut.Find("#template-view-user").TextContent);
    }

    [Fact]
    public async Task CopyAndEdit_NamesMissingAndUnknownPlaceholdersWhileTyping_AndStoresNothing()
    {
        var builtIns = await RegisterBuiltInsAsync();
        var judge = builtIns[PromptLibrary.JudgePairwise];
        var cut = Render<PromptTemplatesPanel>();
        cut.WaitForAssertion(() => cut.Find($"#template-copy-{judge.Id}"));
        await cut.InvokeAsync(() => cut.Find($"#template-copy-{judge.Id}").Click());
        cut.WaitForAssertion(() => cut.Find("#template-editor"));

        var broken = PromptLibrary.Get(PromptLibrary.JudgePairwise).UserText.Replace("{response B}", "{response C}", StringComparison.Ordinal);
        await cut.InvokeAsync(() => Field(cut, "User text").Find("textarea").Input(broken));

        cut.WaitForAssertion(() => Assert.Contains("userText lacks {response B}", cut.Find("#template-validation").TextContent));
        Assert.Contains("userText has {response C}, which the judge-pairwise stage does not fill", cut.Find("#template-validation").TextContent);
        Assert.Equal("{response B}", cut.Find("#template-placeholders [data-present=false]").TextContent.Trim());
        Assert.Equal("{response C}?", cut.Find("#template-placeholders [data-unknown]").TextContent.Trim());
        Assert.True(cut.Find("#template-save").HasAttribute("disabled"));

        // An empty name and a system text with a placeholder are named too; fixing the text clears its errors.
        await cut.InvokeAsync(() => Field(cut, "Name").Find("input").Input(""));
        await cut.InvokeAsync(() => Field(cut, "System text").Find("textarea").Input("Judge {instruction}."));
        cut.WaitForAssertion(() => Assert.Contains("name is required", cut.Find("#template-validation").TextContent));
        Assert.Contains("system message is sent as written", cut.Find("#template-validation").TextContent);
        await cut.InvokeAsync(() => Field(cut, "User text").Find("textarea").Input(PromptLibrary.Get(PromptLibrary.JudgePairwise).UserText));
        cut.WaitForAssertion(() => Assert.DoesNotContain("userText lacks", cut.Find("#template-validation").TextContent));
        Assert.DoesNotContain("userText has", cut.Find("#template-validation").TextContent);
        // The system text lost the verdict format: a warning, not an error.
        Assert.Contains("“[[A]]”, “[[B]]”", cut.Find("[data-testid=template-warning]").TextContent);
        Assert.Empty(cut.FindAll("#template-placeholders [data-present=false]"));

        await using var db = Database.CreateContext();
        Assert.Equal(1, await db.PromptTemplates.CountAsync(t => t.Key == PromptLibrary.JudgePairwise, Cancellation));
    }

    [Fact]
    public async Task Delete_RemovesAnUnusedVersion_AndIsRefused_WhenTheVersionWasUsedMeanwhile()
    {
        var builtIns = await RegisterBuiltInsAsync();
        var unused = await AddJudgeCopyAsync(builtIns[PromptLibrary.JudgePairwise], "unused", " A.", 2);
        var soonUsed = await AddJudgeCopyAsync(builtIns[PromptLibrary.JudgePairwise], "soon used", " B.", 3);
        var cut = Render<PromptTemplatesPanel>();
        cut.WaitForAssertion(() => Assert.False(cut.Find($"#template-delete-{soonUsed.Id}").HasAttribute("disabled")));

        // After the page loaded, an iteration chose the version: the refusal comes from the service, and names the iteration.
        await AddIterationAsync(soonUsed.Id);
        await cut.InvokeAsync(() => cut.Find($"#template-delete-{soonUsed.Id}").Click());
        await cut.InvokeAsync(() => cut.Find($"#template-delete-confirm-{soonUsed.Id}").Click());

        cut.WaitForAssertion(() => Assert.Contains("Version 3 of judge-pairwise (“soon used”) is used by the judge of iteration 1 of experiment",
            cut.Find("#templates-error").TextContent));
        Assert.Contains("1 iteration's judge", Row(cut, soonUsed.Id));
        Assert.True(cut.Find($"#template-delete-{soonUsed.Id}").HasAttribute("disabled"));

        await cut.InvokeAsync(() => cut.Find($"#template-delete-{unused.Id}").Click());
        await cut.InvokeAsync(() => cut.Find($"#template-delete-confirm-{unused.Id}").Click());

        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll($"tr[data-template-id='{unused.Id}']")));
        await using var db = Database.CreateContext();
        Assert.Equal([1, 3], await db.PromptTemplates.Where(t => t.Key == PromptLibrary.JudgePairwise).OrderBy(t => t.Version).Select(t => t.Version).ToListAsync(Cancellation));
    }
}
