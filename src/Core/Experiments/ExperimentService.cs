using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Models;

namespace SelfTaught.Core.Experiments;

/// <summary>What <see cref="ExperimentService.CreateAsync"/> needs to create an experiment.</summary>
public sealed record CreateExperimentRequest
{
    /// <summary>Name, unique among experiments (required, at most 200 characters).</summary>
    public string? Name { get; init; }

    /// <summary>Free text.</summary>
    public string? Description { get; init; }

    /// <summary>The instruction pool: an imported dataset with role InstructionPool (required).</summary>
    public long? DatasetId { get; init; }

    /// <summary>M0, the seed model each iteration's judge is fine-tuned from (required).</summary>
    public ModelReference? SeedModel { get; init; }

    /// <summary>Model that writes responses and pairs. Omitted: the seed model (the paper used Mixtral 8x22B for this).</summary>
    public ModelReference? GeneratorModel { get; init; }

    /// <summary>Judge of iteration 1. Omitted: the seed model (the paper used Mixtral 8x22B for this).</summary>
    public ModelReference? JudgeModel { get; init; }

    /// <summary>Master seed of every random choice. Default: drawn at random and stored.</summary>
    public long? Seed { get; init; }

    /// <summary>Settings; omitted fields take the defaults of <see cref="ExperimentSettings"/>.</summary>
    public ExperimentSettings? Settings { get; init; }
}

/// <summary>The request cannot create an experiment; <see cref="Problems"/> maps each field to what is wrong with it.</summary>
public sealed class ExperimentValidationException(IReadOnlyDictionary<string, string[]> problems)
    : Exception(string.Join(" ", problems.SelectMany(p => p.Value)))
{
    /// <summary>Field name (camelCase, as in the API body) → messages.</summary>
    public IReadOnlyDictionary<string, string[]> Problems { get; } = problems;
}

/// <summary>Creates experiments with their first iteration.</summary>
public sealed class ExperimentService(IDbContextFactory<SelfTaughtDbContext> dbFactory, TimeProvider time)
{
    /// <summary>Longest experiment name.</summary>
    public const int MaxNameLength = 200;

    /// <summary>
    /// Validates <paramref name="request"/> and stores the experiment and its iteration 1, judged by the request's judge.
    /// </summary>
    /// <param name="request">The experiment.</param>
    /// <param name="endpointExists">Tells whether an endpoint name is configured; null skips that check.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored experiment with its first iteration.</returns>
    /// <exception cref="ExperimentValidationException">Something is wrong with the request; nothing was stored.</exception>
    public async Task<Experiment> CreateAsync(CreateExperimentRequest request, Func<string, bool>? endpointExists = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var problems = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!problems.TryGetValue(field, out var list)) problems[field] = list = [];
            list.Add(message);
        }

        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name)) Add("name", "Give the experiment a name.");
        else if (name.Length > MaxNameLength) Add("name", $"The name is {name.Length} characters long; at most {MaxNameLength} are allowed.");

        var seedModel = Check("seedModel", request.SeedModel, required: true);
        var generator = Check("generatorModel", request.GeneratorModel, required: false) ?? seedModel;
        var judge = Check("judgeModel", request.JudgeModel, required: false) ?? seedModel;
        ModelReference? Check(string field, ModelReference? model, bool required)
        {
            // Omitted: the default applies (when there is one). Given without a name: an error, not a silent default.
            if (model is null && !required) return null;
            if (model is null || string.IsNullOrWhiteSpace(model.Model))
            {
                Add(field, $"{field}.model is required: the model name as the server knows it, e.g. llama3.1:70b.");
                return null;
            }
            var endpoint = string.IsNullOrWhiteSpace(model.Endpoint) ? null : model.Endpoint.Trim();
            if (endpoint is not null && endpointExists is not null && !endpointExists(endpoint))
                Add(field, $"{field}.endpoint '{endpoint}' is not a configured endpoint (see Settings → Backends).");
            return new ModelReference(model.Model.Trim(), endpoint);
        }

        if (request.Seed is < 0 or > Seeds.MaxSeed) Add("seed", $"The seed must be between 0 and {Seeds.MaxSeed}.");
        var settings = request.Settings ?? new ExperimentSettings();
        foreach (var problem in settings.Problems()) Add("settings", problem);

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (request.DatasetId is not { } datasetId)
        {
            Add("datasetId", "Choose the instruction pool (datasetId).");
        }
        else
        {
            var dataset = await db.Datasets.AsNoTracking().Where(d => d.Id == datasetId)
                .Select(d => new { d.Name, d.Role, d.Status, d.RowCount }).SingleOrDefaultAsync(cancellationToken);
            if (dataset is null || dataset.Status != DatasetStatus.Ready)
                Add("datasetId", $"Dataset {datasetId} does not exist{(dataset is null ? "" : " yet: its import has not finished")}.");
            else if (dataset.Role != DatasetRole.InstructionPool)
                Add("datasetId", $"Dataset {datasetId} ('{dataset.Name}') holds {dataset.Role} rows; an experiment needs an instruction pool.");
        }
        if (name is { Length: > 0 } && await db.Experiments.AnyAsync(e => e.Name == name, cancellationToken))
            Add("name", $"An experiment named '{name}' already exists.");

        if (problems.Count > 0)
            throw new ExperimentValidationException(problems.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal));

        var now = time.GetUtcNow().UtcDateTime;
        var seed = request.Seed ?? Seeds.NewSeed();
        var experiment = new Experiment
        {
            Name = name!,
            Description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description.Trim(),
            InstructionDatasetId = request.DatasetId!.Value,
            SeedModel = seedModel!.Model, SeedEndpoint = seedModel.Endpoint,
            GeneratorModel = generator!.Model, GeneratorEndpoint = generator.Endpoint,
            JudgeModel = judge!.Model, JudgeEndpoint = judge.Endpoint,
            Seed = seed,
            SettingsJson = settings.ToJson(),
            CreatedAt = now,
        };
        experiment.Iterations.Add(NewIteration(experiment, 1, judge, judgeCandidateModelId: null, now));
        db.Experiments.Add(experiment);
        await db.SaveChangesAsync(cancellationToken);
        return experiment;
    }

    /// <summary>Iteration <paramref name="number"/> of <paramref name="experiment"/>, judged by <paramref name="judge"/>.</summary>
    public static Iteration NewIteration(Experiment experiment, int number, ModelReference judge, long? judgeCandidateModelId, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(judge);
        var judging = ExperimentSettings.FromJson(experiment.SettingsJson).Judging;
        return new Iteration
        {
            Experiment = experiment,
            Number = number,
            JudgeModel = judge.Model,
            JudgeEndpoint = judge.Endpoint,
            JudgeCandidateModelId = judgeCandidateModelId,
            Seed = Seeds.Derive(experiment.Seed, SeedStreams.Iteration, number),
            SamplesPerPair = judging.Samples,
            EarlyStop = judging.EarlyStop,
            Status = IterationStatus.Created,
            SettingsJson = new ExperimentSettings { Judging = judging }.ToJson(),
            CreatedAt = now,
        };
    }
}

/// <summary>First elements of <see cref="Seeds.Derive"/> paths, one per kind of random choice, so streams never overlap.</summary>
public static class SeedStreams
{
    /// <summary>An iteration's seed: (Iteration, number).</summary>
    public const long Iteration = 1;

    /// <summary>The select stage's sample: (Selection).</summary>
    public const long Selection = 2;

    /// <summary>Held-out assignment of pairs: (HeldOut, method, source row index); see <c>Pairs.PairSeeds.IsHeldOut</c>.</summary>
    public const long HeldOut = 3;

    /// <summary>Generation requests: (Generation, method, source row index, step, attempt); see <c>Pairs.PairSeeds</c>.</summary>
    public const long Generation = 4;

    /// <summary>Label balancing of a training set: (iteration seed, Balance) is the balance seed; each pair ranks by (balance seed, pair key (PairKeys.Stable)).</summary>
    public const long Balance = 5;

    /// <summary>The incorrect sample a DPO row rejects: (iteration seed, DpoRejected) is the stream's seed; each pair draws with (that seed, pair key (PairKeys.Stable)).</summary>
    public const long DpoRejected = 6;

    /// <summary>Placement of y_w as A or B in judgment annotation: (Placement, pair key (PairKeys.Stable)), from the iteration's seed.</summary>
    public const long Placement = 10;

    /// <summary>A judge request's seed: (JudgeRequest, pair key (PairKeys.Stable), first sample index), from the iteration's seed.</summary>
    public const long JudgeRequest = 11;

    /// <summary>Which correct judgment is kept: (Keep, pair key (PairKeys.Stable)), from the iteration's seed.</summary>
    public const long Keep = 12;

    /// <summary>The full-N subsample under early stop: (FullN, pair key (PairKeys.Stable)), from the iteration's seed.</summary>
    public const long FullN = 13;

    /// <summary>Which rows of a labeled source are mixed into an experiment's pairs: (Mix, method, source row index).</summary>
    public const long Mix = 7;

    /// <summary>An evaluation's order in <c>random</c> position mode: (EvaluationOrder, example key hash), from the run's seed.</summary>
    public const long EvaluationOrder = 20;

    /// <summary>An evaluation request's seed: (EvaluationRequest, example key hash, chosen position, first sample index), from the run's seed.</summary>
    public const long EvaluationRequest = 21;
}
