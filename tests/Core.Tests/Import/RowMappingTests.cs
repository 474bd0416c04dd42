using System.Text.Json.Nodes;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Import;
using SelfTaught.Core.Import.Mapping;

namespace SelfTaught.Core.Tests.Import;

public class RowMappingTests
{
    [Theory]
    [InlineData("  Hello\t\n World  ", "hello world")]
    [InlineData("What’s “this”?", "what's \"this\"?")]
    [InlineData("ＦＵＬＬ　ｗｉｄｔｈ", "full width")]           // NFKC folds full-width letters and the ideographic space
    [InlineData("ﬁle", "file")]                                 // ligature
    [InlineData("Ä", "ä")]
    public void Normalize_FoldsCaseWhitespaceQuotesAndCompatibilityForms(string text, string expected) =>
        Assert.Equal(expected, TextNormalizer.Normalize(text));

    [Fact]
    public void Normalize_ReplacesLoneSurrogates_WhichStringNormalizeRejects() =>
        // (Not an InlineData: test case serialization would mangle the lone surrogate before it got here.)
        Assert.Equal("bad \ufffd surrogate", TextNormalizer.Normalize("Bad \ud800 surrogate"));

    [Fact]
    public void NormalizedHash_IsEqual_ForTextsThatNormalizeAlike_AndRoundTripsThroughHex()
    {
        var a = TextNormalizer.NormalizedHash("  what’s   the CAPITAL of France? ");
        var b = TextNormalizer.NormalizedHash("What's the capital of France?");
        var c = TextNormalizer.NormalizedHash("What's the capital of Spain?");

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Matches("^[0-9a-f]{16}$", a);
        Assert.True(TextNormalizer.TryParseHex(a, out var parsed));
        Assert.Equal(TextNormalizer.Hash64(TextNormalizer.Normalize("What's the capital of France?")), parsed);
        // XXH3-64 of the empty input, from xxHash's reference test vectors.
        Assert.Equal("2d06800538d394c2", TextNormalizer.ToHex(TextNormalizer.Hash64("")));
    }

    [Fact]
    public void HhRlhfSplit_KeepsTheSharedDialogue_AndTheFinalAssistantTurns()
    {
        const string shared = "\n\nHuman: How do I pick a lock?\n\nAssistant: Why do you want to?\n\nHuman: I locked myself out.";
        var (prompt, chosen, rejected, turns, problem) = HhRlhfMapper.Split(
            shared + "\n\nAssistant: Call a locksmith or your landlord.", shared + "\n\nAssistant: Use a bobby pin.");

        Assert.Null(problem);
        Assert.Equal("Human: How do I pick a lock?\n\nAssistant: Why do you want to?\n\nHuman: I locked myself out.", prompt);
        Assert.Equal("Call a locksmith or your landlord.", chosen);
        Assert.Equal("Use a bobby pin.", rejected);
        Assert.Equal(2, turns);
    }

    [Fact]
    public void HhRlhfSplit_GivesTheBareQuestion_ForOneHumanTurn_AndRefusesDivergingDialogues()
    {
        var single = HhRlhfMapper.Split("\n\nHuman: Hi there?\n\nAssistant: Hello.", "\n\nHuman: Hi there?\n\nAssistant: Go away.");
        var diverging = HhRlhfMapper.Split(
            "\n\nHuman: A\n\nAssistant: B\n\nHuman: C\n\nAssistant: D", "\n\nHuman: A\n\nAssistant: X\n\nHuman: C\n\nAssistant: E");

        Assert.Equal(("Hi there?", "Hello.", "Go away.", 1, (string?)null), single);
        Assert.Contains("differ before their final assistant turn", diverging.Problem);
    }

    [Theory]
    [InlineData("She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18", "18")]
    [InlineData("#### 1,000", "1,000")]
    [InlineData("no marker", "no marker")]
    public void Gsm8kFinalAnswer_IsTheTextAfterTheMarker(string answer, string expected) =>
        Assert.Equal(expected, Gsm8kMapper.FinalAnswer(answer));

    [Fact]
    public void WildChatMapper_PicksTheFirstOrLastUserTurn_AndCountsUserTurns()
    {
        var row = (JsonObject)JsonNode.Parse(WildChatFixture.ToJsonLines([WildChatFixture.Conversation(3, ["first question", "second", "third question"])]))!;
        var columns = row.Select(p => p.Key).ToList();
        var first = new WildChatMapper(new ColumnMapping(), TurnSelection.First);
        var last = new WildChatMapper(new ColumnMapping(), TurnSelection.Last);
        first.Bind(columns, "f");
        last.Bind(columns, "f");

        var a = Assert.IsType<InstructionDraft>(first.Map((JsonObject)row.DeepClone()));
        var b = Assert.IsType<InstructionDraft>(last.Map((JsonObject)row.DeepClone()));

        Assert.Equal("first question", a.Text);
        Assert.Equal("third question", b.Text);
        Assert.Equal(3, a.TurnCount);
        Assert.Equal($"{3:x32}", a.SourceId);
        Assert.Equal(3, b.Metadata!["userTurn"]!.GetValue<int>());
        Assert.Equal("gpt-3.5-turbo-0613", a.Metadata!["model"]!.GetValue<string>());
        Assert.False(a.Metadata.ContainsKey("hashed_ip"));
    }

    [Fact]
    public void Filters_RejectWithReasons_InTheOrderValidityThenUserFilters()
    {
        static InstructionDraft Draft(string? text, string? language = "English", bool toxic = false, bool redacted = false) =>
            new(text, null, language, 1, null, toxic, redacted, null);
        var filters = new ImportFilters { Language = "english", DropToxic = true, DropRedacted = true, MinPromptLength = 3, MaxPromptLength = 10 };

        Assert.Equal(RejectionReasons.EmptyPrompt, Reason(Draft(null)));
        Assert.Equal(RejectionReasons.EmptyPrompt, Reason(Draft("   ")));
        Assert.Equal(RejectionReasons.TooLong, Reason(Draft("12345678901")));
        Assert.Equal(RejectionReasons.TooShort, Reason(Draft("ab")));
        Assert.Equal(RejectionReasons.NulCharacter, Reason(Draft("a\0b")));
        Assert.Equal(RejectionReasons.Language, Reason(Draft("hola", "Spanish")));
        Assert.Equal(RejectionReasons.Language, Reason(Draft("hola", null)));
        Assert.Equal(RejectionReasons.Toxic, Reason(Draft("rude", toxic: true)));
        Assert.Equal(RejectionReasons.Redacted, Reason(Draft("NAME_1", redacted: true)));
        Assert.IsType<InstructionDraft>(RowFilter.Apply(Draft("fine"), filters));

        var pair = new PairDraft("q", "same", "same", GoldLabel.A, null, null, 1, null, null, null);
        Assert.Equal(RejectionReasons.IdenticalResponses, ((Rejection)RowFilter.Apply(pair, new ImportFilters())).Reason);
        Assert.Equal(RejectionReasons.EmptyResponse, ((Rejection)RowFilter.Apply(pair with { ResponseB = "" }, new ImportFilters())).Reason);

        string Reason(RowOutcome draft) => Assert.IsType<Rejection>(RowFilter.Apply(draft, filters)).Reason;
    }

    [Fact]
    public void TooLongDetail_UsesInvariantDigitGrouping()
    {
        var rejection = (Rejection)RowFilter.Apply(new InstructionDraft(new string('x', 123_456), null, null, 1, null, false, false, null), new ImportFilters());
        Assert.Equal("prompt is 123,456 characters; the maximum is 100,000", rejection.Detail);
        Assert.Equal(201, rejection.Preview!.Length);
    }

    [Fact]
    public void Request_RoundTripsThroughJson_WithWireNames()
    {
        var request = new ImportRequest
        {
            Name = "hh", Source = new HubSource("Anthropic/hh-rlhf", "default", "test", "abc123"), Preset = ImportPreset.HhRlhf,
            Columns = new ColumnMapping { Chosen = "better" }, Filters = new ImportFilters { Dedupe = false, Turn = TurnSelection.Last },
        };

        var json = request.ToJson();
        var back = ImportRequest.FromJson(json);

        Assert.Equal(request, back);
        Assert.Contains("\"preset\":\"hh-rlhf\"", json);
        Assert.Contains("\"kind\":\"hub\"", json);
        Assert.Equal(ImportPreset.HhRlhf, ImportPresets.Parse("HH-RLHF"));
        Assert.Equal(ImportFormat.JsonLines, ImportFormats.FromFileName("x/y/data.jsonl.gz"));
        Assert.Equal(DatasetRole.LabeledPairs, back.EffectiveRole);
    }

    [Fact]
    public void Validate_RefusesAPairPresetForAnInstructionPool_AndUnknownExtensions()
    {
        var pairsAsPool = new ImportRequest { Name = "x", Source = new LocalFileSource("a.jsonl"), Preset = ImportPreset.Pairs, Role = DatasetRole.InstructionPool };
        var unknown = new ImportRequest { Name = "x", Source = new LocalFileSource("a.txt") };
        var badRepo = new ImportRequest { Name = "x", Source = new HubSource("not a repo") };

        Assert.Contains("imports labeled pairs", Assert.Throws<ImportException>(pairsAsPool.Validate).Message);
        Assert.Contains("from its extension '.txt'", Assert.Throws<ImportException>(unknown.Validate).Message);
        Assert.Contains("owner/name", Assert.Throws<ImportException>(badRepo.Validate).Message);
    }

    [Fact]
    public void ImportBody_BuildsTheRequest_ForEachKindOfSource()
    {
        var hub = new ImportBody { Hub = "allenai/WildChat-1M", Preset = "wildchat", Language = "English", DropToxic = true }.ToRequest();
        var path = new ImportBody { Path = "/data/rb.parquet", Preset = "rewardbench" }.ToRequest();
        var upload = new ImportBody { Preset = "hh-rlhf", Dedupe = false }.ToRequest("/tmp/upload-1", "harmless.jsonl.gz");

        Assert.Equal(new HubSource("allenai/WildChat-1M"), hub.Source);
        Assert.Equal(("allenai/WildChat-1M", ImportPreset.WildChat, "English", true), (hub.Name, hub.Preset, hub.Filters.Language, hub.Filters.DropToxic));
        Assert.Equal((DatasetRole.Benchmark, ImportFormat.Parquet, "rb.parquet"), (path.EffectiveRole, path.ResolveFormat(), path.Name));
        Assert.Equal(new UploadedFileSource("/tmp/upload-1", "harmless.jsonl.gz"), upload.Source);
        Assert.Equal((ImportFormat.JsonLines, false), (upload.ResolveFormat(), upload.EffectiveDedupe));
        Assert.Contains("Give one source only", Assert.Throws<ImportException>(() => new ImportBody { Path = "a.csv", Hub = "a/b" }.ToRequest()).Message);
        Assert.Contains("'sharegpt' is not an import preset; use one of wildchat, instructions, pairs, rewardbench, hh-rlhf, gsm8k",
            Assert.Throws<ImportException>(() => new ImportBody { Path = "a.csv", Preset = "sharegpt" }.ToRequest()).Message);
    }
}
