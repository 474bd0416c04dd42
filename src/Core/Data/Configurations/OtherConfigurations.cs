using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Data.Configurations;

internal sealed class BackendEndpointConfiguration : IEntityTypeConfiguration<BackendEndpoint>
{
    public void Configure(EntityTypeBuilder<BackendEndpoint> b)
    {
        b.Property(x => x.Name).HasMaxLength(100);
        b.HasIndex(x => x.Name).IsUnique();
    }
}

internal sealed class PromptTemplateConfiguration : IEntityTypeConfiguration<PromptTemplate>
{
    public void Configure(EntityTypeBuilder<PromptTemplate> b)
    {
        b.Property(x => x.Key).HasMaxLength(100);
        b.HasOne<PromptTemplate>().WithMany().HasForeignKey(x => x.ParentId).OnDelete(DeleteBehavior.Restrict);
        b.HasIndex(x => new { x.Key, x.Version }).IsUnique();
        b.HasIndex(x => x.ContentHash);
    }
}

internal sealed class EvaluationRunConfiguration : IEntityTypeConfiguration<EvaluationRun>
{
    public void Configure(EntityTypeBuilder<EvaluationRun> b)
    {
        // Scores outlive what they were computed on: deleting an experiment or dataset keeps its evaluations.
        b.HasOne(x => x.Dataset).WithMany().HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne(x => x.Experiment).WithMany().HasForeignKey(x => x.ExperimentId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne(x => x.CandidateModel).WithMany().HasForeignKey(x => x.CandidateModelId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne(x => x.Template).WithMany().HasForeignKey(x => x.TemplateId).OnDelete(DeleteBehavior.Restrict);
        b.HasIndex(x => new { x.Benchmark, x.CreatedAt });
        b.HasIndex(x => x.CreatedAt);
        b.HasIndex(x => x.CandidateModelId);
        b.HasIndex(x => x.ExperimentId);
    }
}

internal sealed class EvaluationResultConfiguration : IEntityTypeConfiguration<EvaluationResult>
{
    public void Configure(EntityTypeBuilder<EvaluationResult> b)
    {
        b.HasOne(x => x.EvaluationRun).WithMany().HasForeignKey(x => x.EvaluationRunId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.EvaluationRunId, x.ExampleKey, x.ChosenPosition, x.SampleIndex }).IsUnique();
        b.HasIndex(x => new { x.EvaluationRunId, x.Subset });
    }
}

internal sealed class AuditSessionConfiguration : IEntityTypeConfiguration<AuditSession>
{
    public void Configure(EntityTypeBuilder<AuditSession> b)
    {
        b.HasOne(x => x.Experiment).WithMany().HasForeignKey(x => x.ExperimentId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Iteration>().WithMany().HasForeignKey(x => x.IterationId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(x => x.CreatedAt);
    }
}

internal sealed class AuditAssignmentConfiguration : IEntityTypeConfiguration<AuditAssignment>
{
    public void Configure(EntityTypeBuilder<AuditAssignment> b)
    {
        b.HasOne(x => x.AuditSession).WithMany(s => s.Assignments).HasForeignKey(x => x.AuditSessionId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.Pair).WithMany().HasForeignKey(x => x.PairId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.Annotation).WithMany().HasForeignKey(x => x.AnnotationId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(x => new { x.AuditSessionId, x.Ordinal }).IsUnique();
        b.HasIndex(x => new { x.AuditSessionId, x.PairId, x.AnnotationId }).IsUnique();
        b.HasIndex(x => new { x.AuditSessionId, x.PairId }).IsUnique().HasFilter("\"AnnotationId\" IS NULL").HasDatabaseName("IX_AuditAssignments_AuditSessionId_PairId_NoAnnotation");
    }
}

internal sealed class AuditLabelConfiguration : IEntityTypeConfiguration<AuditLabel>
{
    public void Configure(EntityTypeBuilder<AuditLabel> b)
    {
        b.Property(x => x.Reviewer).HasMaxLength(100);
        b.HasOne(x => x.AuditAssignment).WithMany(a => a.Labels).HasForeignKey(x => x.AuditAssignmentId).OnDelete(DeleteBehavior.Cascade);
        // A reviewer labels an item once; a double submit is ignored rather than counted twice.
        b.HasIndex(x => new { x.AuditAssignmentId, x.Reviewer }).IsUnique();
        b.HasIndex(x => x.Reviewer);
    }
}

internal sealed class StageRunConfiguration : IEntityTypeConfiguration<StageRun>
{
    public void Configure(EntityTypeBuilder<StageRun> b)
    {
        b.HasOne<Dataset>().WithMany().HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne<Experiment>().WithMany().HasForeignKey(x => x.ExperimentId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne<Iteration>().WithMany().HasForeignKey(x => x.IterationId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne<EvaluationRun>().WithMany().HasForeignKey(x => x.EvaluationRunId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(x => new { x.Status, x.CreatedAt });
        b.HasIndex(x => x.CreatedAt);
        b.HasIndex(x => x.ExperimentId);
        b.HasIndex(x => x.DatasetId);
    }
}

internal sealed class StageRunFailureConfiguration : IEntityTypeConfiguration<StageRunFailure>
{
    public void Configure(EntityTypeBuilder<StageRunFailure> b)
    {
        b.HasOne(x => x.StageRun).WithMany(s => s.Failures).HasForeignKey(x => x.StageRunId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.StageRunId, x.ItemId }).IsUnique();
    }
}
