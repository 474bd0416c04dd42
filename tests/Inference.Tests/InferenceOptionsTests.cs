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
    [InlineData("ApiKeyReference", "sk-live-abc123", "not be the key")]
    [InlineData("ApiKeyReference", "ConnectionStrings:SelfTaught", "Inference:Endpoints:0:ApiKeyReference is not accepted")]
    [InlineData("ApiKeyReference", "AWS_SECRET_ACCESS_KEY", "_API_KEY or _TOKEN")]
    [InlineData("ApiKeyReference", "vllm_api_key", "Inference:ApiKeys:<name>")]
    [InlineData("BaseUrl", "http://admin:hunter2@gpu-box:8000/v1", "Inference:Endpoints:0:BaseUrl must not contain a user name or password")]
    [InlineData("MaxTokensField", "max_new_tokens", "Inference:Endpoints:0:MaxTokensField 'max_new_tokens' must be max_tokens (default) or max_completion_tokens")]
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
    public void Errors_NeverEchoASecret_FromABaseUrlOrAKeyReference()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Resolve(new()
        {
            ["Inference:Endpoints:0:Name"] = "local",
            ["Inference:Endpoints:0:BaseUrl"] = "http://admin:hunter2@localhost:11434",
            ["Inference:Endpoints:0:ApiKeyReference"] = "sk-live-abc123",
        }));

        Assert.DoesNotContain("hunter2", ex.Message);
        Assert.DoesNotContain("sk-live-abc123", ex.Message);
    }

    [Theory]
    [InlineData("OPENAI_API_KEY")]
    [InlineData("VLLM_API_KEY")]
    [InlineData("HF_TOKEN")]
    [InlineData("Inference:ApiKeys:Vllm")]
    [InlineData("Inference:ApiKeys:gpu-box.2")]
    public void ApiKeyReference_IsAccepted_InEitherForm(string reference)
    {
        var options = Resolve(new()
        {
            ["Inference:Endpoints:0:Name"] = "local",
            ["Inference:Endpoints:0:BaseUrl"] = "http://localhost:11434",
            ["Inference:Endpoints:0:ApiKeyReference"] = reference,
        });

        Assert.Equal(reference, options.Endpoints[0].ApiKeyReference);
    }

    [Fact]
    public void ApiKey_IsReadFromConfigurationOrEnvironment_ByTheReferencesForm()
    {
        var variable = $"SELFTAUGHT_TEST_{Guid.NewGuid():N}_TOKEN".ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, "from-environment");
        try
        {
            var configuration = new Dictionary<string, string?>
            {
                ["Inference:ApiKeys:Box"] = "from-configuration",
                [variable] = "shadowed-by-configuration",
                ["ConnectionStrings:SelfTaught"] = "Data Source=secret.db",
            };
            var factory = new ChatClientFactory(new InferenceOptions(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
                key => configuration.GetValueOrDefault(key));
            string? Key(string reference) => factory.ApiKey(new EndpointOptions { Name = "x", BaseUrl = "http://localhost", ApiKeyReference = reference });

            Assert.Equal("from-configuration", Key("Inference:ApiKeys:Box"));
            Assert.Equal("from-environment", Key(variable));
            Assert.Null(Key("ConnectionStrings:SelfTaught"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
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
