using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace SelfTaught.Inference;

/// <summary>Registrations of the inference layer.</summary>
public static class DependencyInjection
{
    /// <summary>Binds and validates <see cref="InferenceOptions"/> (section <c>Inference</c>); a bad endpoint stops start-up naming its key.</summary>
    public static IHostApplicationBuilder AddInference(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<InferenceOptions>, InferenceOptionsValidator>();
        return builder;
    }
}
