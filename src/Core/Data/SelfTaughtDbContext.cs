using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Data;

/// <summary>The application database: the source of truth for every artifact SelfTaught produces.</summary>
public class SelfTaughtDbContext(DbContextOptions<SelfTaughtDbContext> options) : DbContext(options)
{
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<Instruction> Instructions => Set<Instruction>();
    public DbSet<LabeledPair> LabeledPairs => Set<LabeledPair>();
    public DbSet<Experiment> Experiments => Set<Experiment>();
    public DbSet<ExperimentInstruction> ExperimentInstructions => Set<ExperimentInstruction>();
    public DbSet<Pair> Pairs => Set<Pair>();
    public DbSet<Iteration> Iterations => Set<Iteration>();
    public DbSet<Annotation> Annotations => Set<Annotation>();
    public DbSet<JudgmentSample> JudgmentSamples => Set<JudgmentSample>();
    public DbSet<CandidateModel> CandidateModels => Set<CandidateModel>();
    public DbSet<TrainingSet> TrainingSets => Set<TrainingSet>();
    public DbSet<TrainingSetMember> TrainingSetMembers => Set<TrainingSetMember>();
    public DbSet<BackendEndpoint> BackendEndpoints => Set<BackendEndpoint>();
    public DbSet<PromptTemplate> PromptTemplates => Set<PromptTemplate>();
    public DbSet<EvaluationRun> EvaluationRuns => Set<EvaluationRun>();
    public DbSet<EvaluationResult> EvaluationResults => Set<EvaluationResult>();
    public DbSet<AuditSession> AuditSessions => Set<AuditSession>();
    public DbSet<AuditAssignment> AuditAssignments => Set<AuditAssignment>();
    public DbSet<AuditLabel> AuditLabels => Set<AuditLabel>();
    public DbSet<StageRun> StageRuns => Set<StageRun>();
    public DbSet<StageRunFailure> StageRunFailures => Set<StageRunFailure>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Enums as their names: readable in the database and stable when members are reordered.
        configurationBuilder.Properties<Enum>().HaveConversion<string>().HaveMaxLength(32);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(SelfTaughtDbContext).Assembly);
}
