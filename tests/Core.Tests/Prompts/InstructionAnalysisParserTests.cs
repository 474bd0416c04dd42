using SelfTaught.Core.Prompts;

namespace SelfTaught.Core.Tests.Prompts;

public class InstructionAnalysisParserTests
{
    [Theory]
    [InlineData("Category: Coding\nComplexity: 7\nLength: (c)", "Coding", 7, 'c')]
    [InlineData("**Category:** Mathematical reasoning\n**Complexity:** 9/10\n**Length:** (e) 3 or more paragraphs", "Mathematical reasoning", 9, 'e')]
    [InlineData("category: creative writing\ncomplexity: 3 out of 10\nlength: b", "Creative Writing", 3, 'b')]
    [InlineData("Here is my analysis.\n\n- Category: Humanity, History or Social Studies\n- Complexity: 10\n- Length: d) 2 paragraphs\n\nI did not answer it.", "Humanity, History or Social Studies", 10, 'd')]
    [InlineData("### Category: Inhabiting a Character/Persona.\nComplexity - 2\nLength – (A)", "Inhabiting a Character/Persona", 2, 'a')]
    [InlineData("Category: <one of the categories above>\nComplexity: <score out of 10>\nLength: <choose from (a) to (e)>\n\nCategory: Extraction\nComplexity: 4\nLength: (b)", "Extraction", 4, 'b')]
    [InlineData("Category: Coding (the user wants a Python script)\r\nComplexity: 6\r\nLength: (d)", "Coding", 6, 'd')]
    public void Parse_ReadsAllThreeFields_InTheFormsModelsWrite(string output, string category, int complexity, char length)
    {
        var result = InstructionAnalysisParser.Parse(output);

        Assert.True(result.Ok, result.Error);
        Assert.Equal((category, complexity, length), (result.Category, result.Complexity!.Value, result.Length!.Value));
    }

    [Theory]
    [InlineData("", "empty output")]
    [InlineData("I cannot analyze this instruction.", "Category, Complexity (1-10), Length (a-e)")]
    [InlineData("Category: Cooking\nComplexity: 5\nLength: (c)", "Category")]
    [InlineData("Category: Coding\nComplexity: 11\nLength: (c)", "Complexity (1-10)")]
    [InlineData("Category: Coding\nComplexity: 0\nLength: (f)", "Complexity (1-10), Length (a-e)")]
    public void Parse_NamesWhatIsMissing_WithoutThrowing(string output, string missing)
    {
        var result = InstructionAnalysisParser.Parse(output);

        Assert.False(result.Ok);
        Assert.Contains(missing, result.Error);
    }

    [Fact]
    public void Parse_NeverThrows_OnRandomText()
    {
        var random = new Random(1234);
        const string alphabet = "Category:Complexity:Length()abcde0123456789 \n\r\t*#-–/<>ÄΩ’\u200B";
        for (var i = 0; i < 5_000; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, 200)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());

            var result = InstructionAnalysisParser.Parse(text);

            Assert.True(result.Ok || result.Error is not null);
            Assert.True(result.Complexity is null or >= 1 and <= 10);
            Assert.True(result.Length is null or >= 'a' and <= 'e');
            Assert.True(result.Category is null || InstructionAnalysisParser.Categories.Contains(result.Category));
        }
    }
}
