using Microsoft.Extensions.Configuration;

namespace SelfTaught.SimBackend.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void FromConfiguration_BindsSectionValues()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SimBackend:JudgeAccuracy"] = "0.9",
            ["SimBackend:Models"] = "a, b:7b",
            ["SimBackend:NMode"] = "reject500",
            ["SimBackend:LatencyMs"] = "200",
            ["SimBackend:JudgeAccuracyByModel:b:7b"] = "0.7", // the colon of a tag is also the key separator
        }).Build();

        var options = SimOptions.FromConfiguration(configuration.GetSection(SimOptions.SectionName));

        Assert.Equal(0.9, options.JudgeAccuracy);
        Assert.Equal(["a", "b:7b"], options.Models);
        Assert.Equal(SimNMode.Reject500, options.NMode);
        Assert.Equal(200, options.LatencyMs);
        Assert.Equal(0.7, options.JudgeAccuracyFor("b:7b"));
        Assert.Equal(0.9, options.JudgeAccuracyFor("a"));
    }

    [Fact]
    public void FromConfiguration_BindsModelList_WhenGivenAsArray()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SimBackend:Models:0"] = "x",
            ["SimBackend:Models:1"] = "y",
        }).Build();

        Assert.Equal(["x", "y"], SimOptions.FromConfiguration(configuration.GetSection("SimBackend")).Models);
    }

    [Theory]
    [InlineData("JudgeAcuracy", "0.8", "Unknown setting SimBackend:JudgeAcuracy")]
    [InlineData("JudgeAccuracy", "1.5", "SimBackend:JudgeAccuracy must be between 0 and 1")]
    [InlineData("NMode", "sometimes", "SimBackend:NMode")]
    [InlineData("LatencyMs", "-1", "SimBackend:LatencyMs")]
    public void FromConfiguration_FailsNamingTheKey_WhenValueIsWrong(string key, string value, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"SimBackend:{key}"] = value }).Build();

        var error = Assert.ThrowsAny<ArgumentException>(() => SimOptions.FromConfiguration(configuration.GetSection("SimBackend")));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandLine_ParsesDocumentedSwitches_AndDefaultsPortTo5099()
    {
        var (options, message) = SimCommandLine.Parse(
            ["--judge-accuracy", "0.75", "--malformed-rate=0.1", "--latency-ms", "200", "--per-token-ms", "1.5", "--n-mode", "reject500",
             "--models", "a,b", "--seed", "3", "--rate-429", "0.2", "--retry-after-seconds", "4", "--host", "127.0.0.1"]);

        Assert.Null(message);
        Assert.NotNull(options);
        Assert.Equal(SimOptions.DefaultCommandLinePort, options.Port);
        Assert.Equal(0.75, options.JudgeAccuracy);
        Assert.Equal(0.1, options.MalformedRate);
        Assert.Equal(200, options.LatencyMs);
        Assert.Equal(1.5, options.PerTokenMs);
        Assert.Equal(SimNMode.Reject500, options.NMode);
        Assert.Equal(["a", "b"], options.Models);
        Assert.Equal(3, options.Seed);
        Assert.Equal(0.2, options.Rate429);
        Assert.Equal(4, options.RetryAfterSeconds);
        Assert.Equal(6000, SimCommandLine.Parse(["--port", "6000"]).Options!.Port);
    }

    [Fact]
    public void CommandLine_RejectsUnknownSwitch_WithUsage()
    {
        var (options, message) = SimCommandLine.Parse(["--judge-acc", "0.8"]);

        Assert.Null(options);
        Assert.Contains("Unknown option '--judge-acc'", message, StringComparison.Ordinal);
        Assert.Contains("--judge-accuracy", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_RejectOutOfRangeValues_AtRuntime()
    {
        var options = new SimOptions();

        Assert.Throws<ArgumentOutOfRangeException>(() => options.Rate500 = 2);
        Assert.Throws<ArgumentException>(() => options.Models = []);
        options.AnswerMinWords = 50;
        options.AnswerMaxWords = 10;
        Assert.Throws<ArgumentException>(options.Validate);
    }
}
