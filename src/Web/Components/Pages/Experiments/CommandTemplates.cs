using System.Globalization;

namespace SelfTaught.Web.Components.Pages.Experiments;

/// <summary>One ready-to-run command of an iteration's training and serving steps.</summary>
/// <param name="Title">What it does.</param>
/// <param name="Language">How to run it (<c>bash</c>).</param>
/// <param name="Text">The command, filled with the iteration's paths and names.</param>
public sealed record CommandTemplate(string Title, string Language, string Text);

/// <summary>
/// The commands that take an iteration's exported training set to a registered candidate model (DESIGN §1 step 5):
/// fine-tune from the seed model with TRL (SFT on the prompt–completion file; DPO on the DPO file) with the paper's
/// Table 7 settings, serve the checkpoint with Ollama or vLLM, and register it. Training runs elsewhere (on GPUs).
/// </summary>
public static class CommandTemplates
{
    /// <summary>The paper's fine-tuning settings (Table 7) as TRL config arguments.</summary>
    public const string Table7Arguments =
        "learning_rate=1e-6, adam_beta1=0.9, adam_beta2=0.95, weight_decay=0.1, warmup_steps=100,\n" +
        "        lr_scheduler_type=\"cosine_with_min_lr\", lr_scheduler_kwargs={\"min_lr_rate\": 0.2},\n" +
        "        num_train_epochs=2, save_steps=100, seed=2, bf16=True";

    /// <summary>The commands for iteration <paramref name="iteration"/> of experiment <paramref name="experimentId"/>.</summary>
    /// <param name="experimentId">Experiment id.</param>
    /// <param name="iteration">Iteration number i (the model trained is M_i).</param>
    /// <param name="seedModel">The experiment's seed model as served (e.g. an Ollama name); training starts from its weights.</param>
    /// <param name="exportFolder">Folder holding the iteration's sft.jsonl and dpo.jsonl.</param>
    /// <param name="maxLengthTokens">Training max length (paper: 4,096).</param>
    /// <param name="appUrl">Base URL of this app, for the registration call.</param>
    public static IReadOnlyList<CommandTemplate> For(long experimentId, int iteration, string seedModel, string exportFolder, int maxLengthTokens, string appUrl)
    {
        ArgumentNullException.ThrowIfNull(seedModel);
        ArgumentNullException.ThrowIfNull(exportFolder);
        ArgumentNullException.ThrowIfNull(appUrl);
        var folder = exportFolder.TrimEnd('/', '\\');
        var name = string.Create(CultureInfo.InvariantCulture, $"selftaught-e{experimentId}-it{iteration}");
        // Training needs the seed model's weights, not a served name: an id such as org/name is used as is.
        var weights = seedModel.Contains('/', StringComparison.Ordinal) && !seedModel.Contains(':', StringComparison.Ordinal)
            ? seedModel
            : $"<Hugging Face id or local path of the weights of {seedModel}>";
        var checkpoints = $"{folder}/checkpoints";
        var max = maxLengthTokens.ToString(CultureInfo.InvariantCulture);
        var url = appUrl.TrimEnd('/');

        return
        [
            new("Download the training set (on the training machine)", "bash",
                $"""
                mkdir -p {folder} && cd {folder}
                for f in sft dpo openai; do curl -fsSL -o $f.jsonl {url}/api/experiments/{experimentId}/iterations/{iteration}/training-set/$f; done
                curl -fsSL -o manifest.json {url}/api/experiments/{experimentId}/iterations/{iteration}/training-set/manifest
                sha256sum sft.jsonl dpo.jsonl openai.jsonl   # compare with the manifest's files[].sha256
                """),
            new("Fine-tune M" + iteration.ToString(CultureInfo.InvariantCulture) + " from the seed model (TRL SFT, loss on the judgment only)", "bash",
                $$"""
                pip install "trl>=0.19" datasets accelerate
                cat > {{name}}-sft.py <<'PY'
                from datasets import load_dataset
                from trl import SFTConfig, SFTTrainer
                # Prompt–completion rows: TRL computes the loss on the completion (the judgment) only.
                train = load_dataset("json", data_files="{{folder}}/sft.jsonl", split="train")
                args = SFTConfig(output_dir="{{checkpoints}}/sft", max_length={{max}},
                        {{Table7Arguments}})
                SFTTrainer(model="{{weights}}", args=args, train_dataset=train).train()
                PY
                accelerate launch --mixed_precision bf16 {{name}}-sft.py
                """),
            new("Or: DPO from the seed model on correct vs incorrect judgments", "bash",
                $$"""
                cat > {{name}}-dpo.py <<'PY'
                from datasets import load_dataset
                from trl import DPOConfig, DPOTrainer
                train = load_dataset("json", data_files="{{folder}}/dpo.jsonl", split="train")
                # max_prompt_length=None: the judge prompt (system text and both answers) is never cut.
                args = DPOConfig(output_dir="{{checkpoints}}/dpo", max_length={{max}}, max_prompt_length=None,
                        {{Table7Arguments}})
                DPOTrainer(model="{{weights}}", args=args, train_dataset=train).train()
                PY
                accelerate launch --mixed_precision bf16 {{name}}-dpo.py
                """),
            new("Serve a checkpoint with Ollama", "bash",
                $"""
                cat > Modelfile <<'EOF'
                FROM {checkpoints}/sft/checkpoint-<step>
                EOF
                ollama create {name} -f Modelfile
                """),
            new("Or serve it with vLLM (a full checkpoint, or a LoRA adapter on the seed model)", "bash",
                $"""
                vllm serve {checkpoints}/sft/checkpoint-<step> --served-model-name {name}
                # LoRA adapter instead: vllm serve {weights} --enable-lora --lora-modules {name}={checkpoints}/sft/checkpoint-<step>
                """),
            new("Register it as a candidate of iteration " + iteration.ToString(CultureInfo.InvariantCulture), "bash",
                $$"""
                curl -X POST {{url}}/api/experiments/{{experimentId}}/iterations/{{iteration}}/models \
                  -H 'Content-Type: application/json' \
                  -d '{"name": "{{name}} step <step>", "model": "{{name}}", "checkpoint": <step>}'
                """),
        ];
    }
}
