using System.Globalization;
using System.Text.Json.Nodes;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Pairs;

namespace SelfTaught.Core.Import.Mapping;

/// <summary>
/// NVIDIA HelpSteer2 (<c>nvidia/HelpSteer2</c>, train and validation): each row is one response (<c>prompt</c>,
/// <c>response</c>, and the scores <c>helpfulness</c>, <c>correctness</c>, <c>coherence</c>, <c>complexity</c>,
/// <c>verbosity</c>, 0–4); rows 2k and 2k+1 answer the same prompt. The mapper holds a row until the next one arrives
/// (one row in memory, so the import stays streaming) and maps the two to one labeled pair: A = the first row, B = the
/// second, their scores in <see cref="LabeledPair.AttributeScoresAJson"/>/<c>BJson</c>, gold = the higher summed score
/// (Tie when equal; consumers apply their own weighting, see <see cref="HelpSteer2Scores"/>). The pair is stored at the
/// position of its second row. A row whose neighbour answers another prompt (the file lost a row, or a row was
/// unreadable) is rejected as <see cref="RejectionReasons.UnpairedRow"/> and pairing continues with the next rows.
/// </summary>
internal sealed class HelpSteer2Mapper(ColumnMapping columns) : RowMapper
{
    private sealed record Half(string Prompt, string Response, HelpSteer2Scores Scores, JsonObject? Rest);

    private string _prompt = "prompt", _response = "response";
    private Half? _held;

    public override void Bind(IReadOnlyList<string> present, string fileName)
    {
        _prompt = columns.Prompt ?? "prompt";
        _response = columns.Chosen ?? "response";
        Require(present, fileName, "helpsteer2",
            [("prompt", _prompt), ("chosen", _response), .. HelpSteer2Scores.Attributes.Select(a => (a, a))]);
        Resolved.Clear();
        Resolved["prompt"] = _prompt;
        Resolved["responseA"] = $"{_response} (row 2k)";
        Resolved["responseB"] = $"{_response} (row 2k+1)";
        Resolved["attributeScores"] = string.Join(", ", HelpSteer2Scores.Attributes);
    }

    public override RowOutcome Map(JsonObject row)
    {
        var promptNode = Take(row, _prompt);
        var responseNode = Take(row, _response);
        if ((NotText(promptNode, _prompt) ?? NotText(responseNode, _response)) is { } bad) return bad;
        var prompt = RowText.Text(promptNode);
        var response = RowText.Text(responseNode);
        if (prompt is null) return Rejection.Of(RejectionReasons.EmptyPrompt, $"no prompt ('{_prompt}' is missing or null)", null);
        if (response is null) return Rejection.Of(RejectionReasons.EmptyResponse, $"'{_response}' is missing or null", prompt);

        var values = new double[HelpSteer2Scores.Attributes.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var name = HelpSteer2Scores.Attributes[i];
            var text = RowText.Text(Take(row, name));
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                return Rejection.Of(RejectionReasons.InvalidScore, $"'{name}' is {(text is null ? "missing" : $"'{text}', not a number")}", prompt);
        }
        var half = new Half(prompt, response, new HelpSteer2Scores(values[0], values[1], values[2], values[3], values[4]), Rest(row)?.DeepClone() as JsonObject);

        if (_held is not { } first)
        {
            _held = half;
            return HeldRow.Instance;
        }
        if (!string.Equals(first.Prompt, half.Prompt, StringComparison.Ordinal))
        {
            // The held row lost its partner; this row may still pair with the next one.
            _held = half;
            return Rejection.Of(RejectionReasons.UnpairedRow,
                "the row before this one has no partner: this row answers another prompt (HelpSteer2 pairs rows 2k and 2k+1)", first.Prompt);
        }
        _held = null;
        var metadata = first.Rest is null && half.Rest is null ? null : new JsonObject
        {
            ["a"] = first.Rest,
            ["b"] = half.Rest,
        };
        return new PairDraft(prompt, first.Response, half.Response, HelpSteer2Scores.PreferBySum(first.Scores, half.Scores),
            Subset: null, SourceId: null, Turn: 1, ModelA: null, ModelB: null, metadata,
            first.Scores.ToJson(), half.Scores.ToJson());
    }

    public override Rejection? Complete()
    {
        if (_held is not { } last) return null;
        _held = null;
        return Rejection.Of(RejectionReasons.UnpairedRow, "the last row has no partner: the source ends after it", last.Prompt);
    }
}
