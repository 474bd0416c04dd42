using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SelfTaught.Core.Training;

namespace SelfTaught.Core.Tests.Training;

public class TrainingSetWriterTests
{
    private const string System = "Please act as an impartial judge.";
    private const string User = "[[User Question]]\nWhat is 2+2?\n\n[The Start of Assistant A’s Answer]\n4\n[The End of Assistant A’s Answer]";
    private const string Judgment = "Assistant A is right: \"4\".\n[[A]]";

    [Fact]
    public void SftLine_IsTrlConversationalPromptCompletion_ExactlyAndOnOneLine()
    {
        var line = TrainingSetWriter.SftLine(System, User, Judgment);

        Assert.Equal(
            "{\"prompt\":[{\"role\":\"system\",\"content\":\"Please act as an impartial judge.\"},{\"role\":\"user\",\"content\":\"[[User Question]]\\nWhat is 2+2?\\n\\n" +
            "[The Start of Assistant A’s Answer]\\n4\\n[The End of Assistant A’s Answer]\"}],\"completion\":[{\"role\":\"assistant\",\"content\":\"Assistant A is right: \\\"4\\\".\\n[[A]]\"}]}\n",
            line);
        Assert.Single(line.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var parsed = JsonDocument.Parse(line);
        Assert.Equal(User, parsed.RootElement.GetProperty("prompt")[1].GetProperty("content").GetString());
        Assert.Equal(Judgment, parsed.RootElement.GetProperty("completion")[0].GetProperty("content").GetString());
    }

    [Fact]
    public void DpoLine_HasPromptChosenAndRejected_AsAssistantMessages()
    {
        using var parsed = JsonDocument.Parse(TrainingSetWriter.DpoLine(System, User, Judgment, "B is better.\n[[B]]"));
        var root = parsed.RootElement;

        Assert.Equal(["prompt", "chosen", "rejected"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["system", "user"], root.GetProperty("prompt").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(("assistant", Judgment), (root.GetProperty("chosen")[0].GetProperty("role").GetString(), root.GetProperty("chosen")[0].GetProperty("content").GetString()));
        Assert.Equal("B is better.\n[[B]]", root.GetProperty("rejected")[0].GetProperty("content").GetString());
        Assert.Equal(1, root.GetProperty("rejected").GetArrayLength());
    }

    [Fact]
    public void OpenAiLine_IsOneMessagesList_SystemUserAssistant()
    {
        using var parsed = JsonDocument.Parse(TrainingSetWriter.OpenAiLine(System, User, Judgment));

        Assert.Equal(["messages"], parsed.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["system", "user", "assistant"], parsed.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
    }

    [Fact]
    public void Lines_WithoutSystemText_HaveNoSystemMessage()
    {
        using var sft = JsonDocument.Parse(TrainingSetWriter.SftLine(null, User, Judgment));
        using var openAi = JsonDocument.Parse(TrainingSetWriter.OpenAiLine(null, User, Judgment));

        Assert.Equal(["user"], sft.RootElement.GetProperty("prompt").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
        Assert.Equal(["user", "assistant"], openAi.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("role").GetString()));
    }

    [Fact]
    public void Writer_HashesWhatItWrote_CountsRowsAndBytes_AndIsByteExactOnASecondRun()
    {
        var (first, files) = Write();
        var (second, _) = Write();

        Assert.Equal(first.Sft, second.Sft);
        Assert.Equal(first.Dpo, second.Dpo);
        Assert.Equal(first.OpenAi, second.OpenAi);
        Assert.Equal([TrainingFiles.Sft, TrainingFiles.Dpo, TrainingFiles.OpenAi], files.Select(f => f.Name));
        Assert.Equal([2, 1, 2], files.Select(f => f.Rows));
        Assert.Equal([first.Sft.LongLength, first.Dpo.LongLength, first.OpenAi.LongLength], files.Select(f => f.Bytes));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(first.Sft)), files[0].Sha256);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(first.Dpo)), files[1].Sha256);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(first.OpenAi)), files[2].Sha256);
        // UTF-8 without BOM, LF only, one JSON object per line, non-ASCII written as is.
        Assert.NotEqual(0xEF, first.Sft[0]);
        var text = Encoding.UTF8.GetString(first.Sft);
        Assert.DoesNotContain('\r', text);
        Assert.Contains("A’s", text);
        Assert.Equal(TrainingSetWriter.SftLine(System, User, Judgment) + TrainingSetWriter.SftLine(null, "ü", "[[B]]"), text);
    }

    private static ((byte[] Sft, byte[] Dpo, byte[] OpenAi) Bytes, IReadOnlyList<WrittenFile> Files) Write()
    {
        using var sft = new MemoryStream();
        using var dpo = new MemoryStream();
        using var openAi = new MemoryStream();
        IReadOnlyList<WrittenFile> files;
        using (var writer = new TrainingSetWriter(sft, dpo, openAi))
        {
            writer.AddSft(System, User, Judgment);
            writer.AddSft(null, "ü", "[[B]]");
            writer.AddDpo(System, User, Judgment, "[[B]]");
            files = writer.Finish();
        }
        return ((sft.ToArray(), dpo.ToArray(), openAi.ToArray()), files);
    }
}
