using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Data.Configurations;

internal sealed class ExperimentConfiguration : IEntityTypeConfiguration<Experiment>
{
    public void Configure(EntityTypeBuilder<Experiment> b)
    {
        b.Property(x => x.Name).HasMaxLength(200);
        b.HasOne(x => x.InstructionDataset).WithMany().HasForeignKey(x => x.InstructionDatasetId).OnDelete(DeleteBehavior.Restrict);
        b.HasIndex(x => x.CreatedAt);
    }
}

internal sealed class ExperimentInstructionConfiguration : IEntityTypeConfiguration<ExperimentInstruction>
{
    public void Configure(EntityTypeBuilder<ExperimentInstruction> b)
    {
        b.HasOne(x => x.Experiment).WithMany(e => e.SelectedInstructions).HasForeignKey(x => x.ExperimentId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.Instruction).WithMany().HasForeignKey(x => x.InstructionId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.ExperimentId, x.InstructionId }).IsUnique();
        b.HasIndex(x => new { x.ExperimentId, x.Excluded, x.Contamination });
    }
}

internal sealed class PairConfiguration : IEntityTypeConfiguration<Pair>
{
    public void Configure(EntityTypeBuilder<Pair> b)
    {
        b.HasOne(x => x.Experiment).WithMany(e => e.Pairs).HasForeignKey(x => x.ExperimentId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.Instruction).WithMany().HasForeignKey(x => x.InstructionId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne(x => x.SourceLabeledPair).WithMany().HasForeignKey(x => x.SourceLabeledPairId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne(x => x.Template).WithMany().HasForeignKey(x => x.TemplateId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne(x => x.ResponseTemplate).WithMany().HasForeignKey(x => x.ResponseTemplateId).OnDelete(DeleteBehavior.Restrict);
        // One pair per (experiment, method, source row): reruns of a synthesis chunk skip instead of duplicating.
        // NULLs are distinct in both SQLite and PostgreSQL, so each key only binds the rows that have that source.
        b.HasIndex(x => new { x.ExperimentId, x.Method, x.InstructionId }).IsUnique();
        b.HasIndex(x => new { x.ExperimentId, x.Method, x.SourceLabeledPairId }).IsUnique();
        b.HasIndex(x => new { x.ExperimentId, x.Status, x.Id });
        b.HasIndex(x => new { x.ExperimentId, x.HeldOut });
    }
}

internal sealed class IterationConfiguration : IEntityTypeConfiguration<Iteration>
{
    public void Configure(EntityTypeBuilder<Iteration> b)
    {
        b.HasOne(x => x.Experiment).WithMany(e => e.Iterations).HasForeignKey(x => x.ExperimentId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.JudgeCandidateModel).WithMany().HasForeignKey(x => x.JudgeCandidateModelId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne(x => x.JudgeTemplate).WithMany().HasForeignKey(x => x.JudgeTemplateId).OnDelete(DeleteBehavior.Restrict);
        b.HasIndex(x => new { x.ExperimentId, x.Number }).IsUnique();
    }
}

internal sealed class AnnotationConfiguration : IEntityTypeConfiguration<Annotation>
{
    public void Configure(EntityTypeBuilder<Annotation> b)
    {
        b.HasOne(x => x.Iteration).WithMany().HasForeignKey(x => x.IterationId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.Pair).WithMany().HasForeignKey(x => x.PairId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.Template).WithMany().HasForeignKey(x => x.TemplateId).OnDelete(DeleteBehavior.Restrict);
        b.HasIndex(x => new { x.IterationId, x.PairId }).IsUnique();
        b.HasIndex(x => new { x.IterationId, x.Status });
        b.HasIndex(x => new { x.IterationId, x.FullN });
    }
}

internal sealed class JudgmentSampleConfiguration : IEntityTypeConfiguration<JudgmentSample>
{
    public void Configure(EntityTypeBuilder<JudgmentSample> b)
    {
        b.HasOne(x => x.Annotation).WithMany(a => a.Samples).HasForeignKey(x => x.AnnotationId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Iteration>().WithMany().HasForeignKey(x => x.IterationId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Pair>().WithMany().HasForeignKey(x => x.PairId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<PromptTemplate>().WithMany().HasForeignKey(x => x.TemplateId).OnDelete(DeleteBehavior.Restrict);
        // A database key, not check-then-insert: concurrent reruns of a chunk must not duplicate samples.
        b.HasIndex(x => new { x.IterationId, x.PairId, x.SampleIndex }).IsUnique();
        b.HasIndex(x => x.AnnotationId);
        // Judgments grid: filter by iteration and correctness/verdict, page by id.
        b.HasIndex(x => new { x.IterationId, x.Correct, x.Id });
        b.HasIndex(x => new { x.IterationId, x.Verdict, x.Id });
    }
}

internal sealed class CandidateModelConfiguration : IEntityTypeConfiguration<CandidateModel>
{
    public void Configure(EntityTypeBuilder<CandidateModel> b)
    {
        b.HasOne(x => x.Iteration).WithMany(i => i.CandidateModels).HasForeignKey(x => x.IterationId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.IterationId, x.Endpoint, x.Model }).IsUnique();
        // NULLs never collide in a unique index: a second key covers models registered without an endpoint.
        b.HasIndex(x => new { x.IterationId, x.Model }).IsUnique().HasFilter("\"Endpoint\" IS NULL").HasDatabaseName("IX_CandidateModels_IterationId_Model_AnyEndpoint");
        // At most one chosen model (M_i) per iteration. A bare boolean filter is valid in SQLite and PostgreSQL.
        b.HasIndex(x => x.IterationId).IsUnique().HasFilter("\"IsChosen\"").HasDatabaseName("IX_CandidateModels_IterationId_Chosen");
    }
}

internal sealed class TrainingSetConfiguration : IEntityTypeConfiguration<TrainingSet>
{
    public void Configure(EntityTypeBuilder<TrainingSet> b)
    {
        b.HasOne(x => x.Iteration).WithMany().HasForeignKey(x => x.IterationId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.IterationId, x.Kind }).IsUnique();
    }
}

internal sealed class TrainingSetMemberConfiguration : IEntityTypeConfiguration<TrainingSetMember>
{
    public void Configure(EntityTypeBuilder<TrainingSetMember> b)
    {
        b.HasOne(x => x.TrainingSet).WithMany(t => t.Members).HasForeignKey(x => x.TrainingSetId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.Annotation).WithMany().HasForeignKey(x => x.AnnotationId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<JudgmentSample>().WithMany().HasForeignKey(x => x.ChosenSampleId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<JudgmentSample>().WithMany().HasForeignKey(x => x.RejectedSampleId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(x => new { x.TrainingSetId, x.AnnotationId }).IsUnique();
        b.HasIndex(x => new { x.TrainingSetId, x.Ordinal });
    }
}
