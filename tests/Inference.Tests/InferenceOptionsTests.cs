using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace SelfTaught.Inference.Tests;

public class InferenceOptionsTests
{
    [Fact]
    public void EffectiveEndpoints_IsLocalOllama_WhenNothingIsConfigured()
    {
        var options = Resolve([]);

        var endpoint = Assert.Single(options.EffectiveEndpoints);
        Assert.Equal("ollama", endpoint.Name);
        Assert.Equal(EndpointKind.Ollama, endpoint.Kind);
        Assert.Equal("http://localhost:11434", endpoint.BaseUrl);
    }

    [Fact]
    public void Endpoints_BindFromConfiguration_WithDefaultsForOmittedKeys()
    {
        var options = Resolve(new()
        {
            ["Inference:Endpoints:0:Name"] = "vllm",
            ["Inference:Endpoints:0:Kind"] = "OpenAICompatible",
            ["Inference:Endpoints:0:BaseUrl"] = "http://127.0.0.1:8000/v1",
            ["Inference:Endpoints:0:DefaultModel"] = "meta-llama/Meta-Llama-3-70B-Instruct",
            ["Inference:Endpoints:0:MaxConcurrentRequests"] = "32",
            ["Inference:Endpoints:0:ApiKeyReference"] = "VLLM_API_KEY",
        });

        var endpoint = Assert.Single(options.EffectiveEndpoints);
        Assert.Equal(EndpointKind.OpenAICompatible, endpoint.Kind);
        Assert.Equal(32, endpoint.MaxConcurrentRequests);
        Assert.Equal(600, endpoint.RequestTimeoutSeconds);
        Assert.Equal("VLLM_API_KEY", endpoint.ApiKeyReference);
    }

    [Theory]
    [InlineData("BaseUrl", "localhost:11434", "Inference:Endpoints:0:BaseUrl")]
    [InlineData("BaseUrl", "ftp://models", "not an absolute http(s) URL")]
    [InlineData("Name", "", "Inference:Endpoints:0:Name is empty")]
    [InlineData("MaxConcurrentRequests", "0", "Inference:Endpoints:0:MaxConcurrentRequests is 0")]
    [InlineData("RequestTimeoutSeconds", "-5", "RequestTimeoutSeconds is -5")]
    [InlineData("ApiKeyReference", "sk-live-abc123", "not the key itself")]
    public void Start_Fails_NamingTheKey_WhenAnEndpointSettingIsWrong(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Inference:Endpoints:0:Name"] = "local",
            ["Inference:Endpoints:0:BaseUrl"] = "http://localhost:11434",
            [$"Inference:Endpoints:0:{key}"] = value,
        };

        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(settings));

        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Start_Fails_WhenTwoEndpointsShareAName()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(new()
        {
            ["Inference:Endpoints:0:Name"] = "gpu",
            ["Inference:Endpoints:0:BaseUrl"] = "http://10.0.0.1:11434",
            ["Inference:Endpoints:1:Name"] = "GPU",
            ["Inference:Endpoints:1:BaseUrl"] = "http://10.0.0.2:11434",
        }));

        Assert.Contains("Inference:Endpoints:1:Name 'GPU' is used by another endpoint", ex.Message);
    }

    private static InferenceOptions Resolve(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddInference();
        using var services = builder.Services.BuildServiceProvider();
        return services.GetRequiredService<IOptions<InferenceOptions>>().Value;
    }
}
