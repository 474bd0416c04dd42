using SelfTaught.Web.Components.Pages.Experiments;

namespace SelfTaught.Web.Tests.Unit;

public class CommandTemplatesTests
{
    [Fact]
    public void Commands_FillTheIterationsFiles_Table7Settings_AndTheRegistrationRoute()
    {
        var commands = CommandTemplates.For(12, 2, "meta-llama/Meta-Llama-3-70B-Instruct", "/data/exports/experiment-12/iteration-2/", 4096, "http://localhost:5109/");

        Assert.Contains("curl -fsSL -o $f.jsonl http://localhost:5109/api/experiments/12/iterations/2/training-set/$f", commands[0].Text, StringComparison.Ordinal);
        commands = commands.Skip(1).ToList();
        var sft = commands[0].Text;
        Assert.Contains("data_files=\"/data/exports/experiment-12/iteration-2/sft.jsonl\"", sft, StringComparison.Ordinal);
        Assert.Contains("SFTTrainer(model=\"meta-llama/Meta-Llama-3-70B-Instruct\"", sft, StringComparison.Ordinal);
        foreach (var setting in new[] { "learning_rate=1e-6", "adam_beta1=0.9", "adam_beta2=0.95", "weight_decay=0.1", "warmup_steps=100", "\"min_lr_rate\": 0.2", "num_train_epochs=2", "save_steps=100", "seed=2", "bf16=True", "max_length=4096" })
            Assert.Contains(setting, sft, StringComparison.Ordinal);
        Assert.Contains("dpo.jsonl", commands[1].Text, StringComparison.Ordinal);
        Assert.Contains("DPOTrainer", commands[1].Text, StringComparison.Ordinal);
        foreach (var setting in new[] { "learning_rate=1e-6", "num_train_epochs=2", "seed=2", "max_length=4096", "max_prompt_length=None" })
            Assert.Contains(setting, commands[1].Text, StringComparison.Ordinal);
        Assert.Contains("ollama create selftaught-e12-it2 -f Modelfile", commands[2].Text, StringComparison.Ordinal);
        Assert.Contains("--lora-modules selftaught-e12-it2=", commands[3].Text, StringComparison.Ordinal);
        Assert.Contains("curl -X POST http://localhost:5109/api/experiments/12/iterations/2/models", commands[4].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Commands_ForAServedModelName_AskForItsWeights()
    {
        var commands = CommandTemplates.For(1, 1, "llama3.1:70b", "exports/experiment-1/iteration-1", 4096, "http://localhost:5109");

        Assert.Contains("model=\"<Hugging Face id or local path of the weights of llama3.1:70b>\"", commands[1].Text, StringComparison.Ordinal);
    }
}
