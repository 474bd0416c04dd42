using System.Buffers;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SelfTaught.Core.Training;

/// <summary>File names and formats of an iteration's exported training set.</summary>
public static class TrainingFiles
{
    /// <summary>SFT rows in TRL's conversational prompt–completion form.</summary>
    public const string Sft = "sft.jsonl";

    /// <summary>DPO rows in TRL's conversational preference form with an explicit prompt.</summary>
    public const string Dpo = "dpo.jsonl";

    /// <summary>The SFT rows in OpenAI's fine-tuning chat form.</summary>
    public const string OpenAi = "openai.jsonl";

    /// <summary>Counts, settings, seeds and file hashes.</summary>
    public const string Manifest = "manifest.json";

    /// <summary>Format of <see cref="Sft"/>, as the manifest describes it.</summary>
    public const string SftFormat = "TRL conversational prompt-completion: {prompt: [system, user], completion: [assistant]}";

    /// <summary>Format of <see cref="Dpo"/>.</summary>
    public const string DpoFormat = "TRL conversational preference: {prompt: [system, user], chosen: [assistant], rejected: [assistant]}";

    /// <summary>Format of <see cref="OpenAi"/>.</summary>
    public const string OpenAiFormat = "OpenAI fine-tuning chat: {messages: [system, user, assistant]}";
}

/// <summary>What was written to one file.</summary>
/// <param name="Name">File name.</param>
/// <param name="Format">What a row holds.</param>
/// <param name="Rows">Lines written.</param>
/// <param name="Bytes">Bytes written.</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the bytes.</param>
public sealed record WrittenFile(string Name, string Format, int Rows, long Bytes, string Sha256);

/// <summary>
/// Writes the JSONL files of a training set row by row to streams, hashing as it goes, so a large set never has to be
/// in memory at once. Output is byte-exact for the same rows: UTF-8 without BOM, one compact JSON object per line, each
/// line ending in <c>\n</c>, keys in a fixed order, non-ASCII text written as is (relaxed escaping).
/// </summary>
public sealed class TrainingSetWriter : IDisposable
{
    /// <summary>JSON writer settings of every row (compact, relaxed escaping so quotes like ’ stay readable).</summary>
    public static readonly JsonWriterOptions RowOptions = new() { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Output _sft;
    private readonly Output _dpo;
    private readonly Output _openAi;
    private readonly ArrayBufferWriter<byte> _buffer = new(16 * 1024);

    /// <summary>Writes to the three streams (left open).</summary>
    public TrainingSetWriter(Stream sft, Stream dpo, Stream openAi)
    {
        _sft = new Output(TrainingFiles.Sft, TrainingFiles.SftFormat, sft);
        _dpo = new Output(TrainingFiles.Dpo, TrainingFiles.DpoFormat, dpo);
        _openAi = new Output(TrainingFiles.OpenAi, TrainingFiles.OpenAiFormat, openAi);
    }

    /// <summary>Adds one SFT row (and the same example as an OpenAI row).</summary>
    /// <param name="system">The judge template's system text; null: no system message.</param>
    /// <param name="user">The rendered user judge prompt.</param>
    /// <param name="completion">The kept correct judgment.</param>
    public void AddSft(string? system, string user, string completion)
    {
        _sft.Write(SftLine(system, user, completion, _buffer));
        _openAi.Write(OpenAiLine(system, user, completion, _buffer));
    }

    /// <summary>Adds one DPO row.</summary>
    public void AddDpo(string? system, string user, string chosen, string rejected) => _dpo.Write(DpoLine(system, user, chosen, rejected, _buffer));

    /// <summary>Flushes the streams and returns what each file holds: SFT, DPO, OpenAI.</summary>
    public IReadOnlyList<WrittenFile> Finish() => [_sft.Finish(), _dpo.Finish(), _openAi.Finish()];

    /// <inheritdoc />
    public void Dispose()
    {
        _sft.Dispose();
        _dpo.Dispose();
        _openAi.Dispose();
    }

    /// <summary>One SFT line: <c>{"prompt":[system,user],"completion":[{"role":"assistant","content":...}]}</c> and <c>\n</c>.</summary>
    public static string SftLine(string? system, string user, string completion) => System.Text.Encoding.UTF8.GetString(SftLine(system, user, completion, new ArrayBufferWriter<byte>()).Span);

    /// <summary>One DPO line: <c>{"prompt":[system,user],"chosen":[assistant],"rejected":[assistant]}</c> and <c>\n</c>.</summary>
    public static string DpoLine(string? system, string user, string chosen, string rejected) =>
        System.Text.Encoding.UTF8.GetString(DpoLine(system, user, chosen, rejected, new ArrayBufferWriter<byte>()).Span);

    /// <summary>One OpenAI line: <c>{"messages":[system,user,assistant]}</c> and <c>\n</c>.</summary>
    public static string OpenAiLine(string? system, string user, string completion) => System.Text.Encoding.UTF8.GetString(OpenAiLine(system, user, completion, new ArrayBufferWriter<byte>()).Span);

    private static ReadOnlyMemory<byte> SftLine(string? system, string user, string completion, ArrayBufferWriter<byte> buffer) => Line(buffer, json =>
    {
        Prompt(json, "prompt", system, user);
        Messages(json, "completion", ("assistant", completion));
    });

    private static ReadOnlyMemory<byte> DpoLine(string? system, string user, string chosen, string rejected, ArrayBufferWriter<byte> buffer) => Line(buffer, json =>
    {
        Prompt(json, "prompt", system, user);
        Messages(json, "chosen", ("assistant", chosen));
        Messages(json, "rejected", ("assistant", rejected));
    });

    private static ReadOnlyMemory<byte> OpenAiLine(string? system, string user, string completion, ArrayBufferWriter<byte> buffer) => Line(buffer, json =>
    {
        if (system is null) Messages(json, "messages", ("user", user), ("assistant", completion));
        else Messages(json, "messages", ("system", system), ("user", user), ("assistant", completion));
    });

    private static void Prompt(Utf8JsonWriter json, string name, string? system, string user)
    {
        if (system is null) Messages(json, name, ("user", user));
        else Messages(json, name, ("system", system), ("user", user));
    }

    private static void Messages(Utf8JsonWriter json, string name, params ReadOnlySpan<(string Role, string Content)> messages)
    {
        json.WriteStartArray(name);
        foreach (var (role, content) in messages)
        {
            json.WriteStartObject();
            json.WriteString("role", role);
            json.WriteString("content", content);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static ReadOnlyMemory<byte> Line(ArrayBufferWriter<byte> buffer, Action<Utf8JsonWriter> body)
    {
        buffer.ResetWrittenCount();
        using (var json = new Utf8JsonWriter(buffer, RowOptions))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenMemory;
    }

    private sealed class Output(string name, string format, Stream stream) : IDisposable
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private int _rows;
        private long _bytes;

        public void Write(ReadOnlyMemory<byte> line)
        {
            stream.Write(line.Span);
            _hash.AppendData(line.Span);
            _rows++;
            _bytes += line.Length;
        }

        public WrittenFile Finish()
        {
            stream.Flush();
            return new WrittenFile(name, format, _rows, _bytes, Convert.ToHexStringLower(_hash.GetHashAndReset()));
        }

        public void Dispose() => _hash.Dispose();
    }
}
