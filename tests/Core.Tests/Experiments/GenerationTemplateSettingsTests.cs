using SelfTaught.Core.Experiments;

namespace SelfTaught.Core.Tests.Experiments;

/// <summary>The template versions an experiment's generation names: null for the built-ins, else a positive row id.</summary>
public class GenerationTemplateSettingsTests
{
    [Fact]
    public void TemplateIds_DefaultToNull_AndRoundTripThroughJson()
    {
        var settings = new ExperimentSettings { Generation = new GenerationSettings { ResponseTemplateId = 7, SynthesisTemplateId = 9 } };

        Assert.Equal((null, null), (new GenerationSettings().ResponseTemplateId, new GenerationSettings().SynthesisTemplateId));
        Assert.Empty(settings.Problems());
        Assert.Equal(settings, ExperimentSettings.FromJson(settings.ToJson()));
        Assert.Contains("\"responseTemplateId\":7", settings.ToJson());
        Assert.Null(ExperimentSettings.FromJson("{\"generation\":{}}").Generation.SynthesisTemplateId);
    }

    [Theory]
    [InlineData(0L, null, "settings.generation.responseTemplateId must be a template id (positive) or null for the built-in, not 0.")]
    [InlineData(null, -3L, "settings.generation.synthesisTemplateId must be a template id (positive) or null for the built-in, not -3.")]
    public void Problems_NameTheTemplateField_WhenAnIdIsNotPositive(long? response, long? synthesis, string message)
    {
        var settings = new ExperimentSettings { Generation = new GenerationSettings { ResponseTemplateId = response, SynthesisTemplateId = synthesis } };

        Assert.Equal(message, Assert.Single(settings.Problems()));
    }
}
