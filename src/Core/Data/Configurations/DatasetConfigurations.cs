using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using SelfTaught.Core.Data.Entities;

namespace SelfTaught.Core.Data.Configurations;

internal sealed class DatasetConfiguration : IEntityTypeConfiguration<Dataset>
{
    public void Configure(EntityTypeBuilder<Dataset> b)
    {
        b.Property(x => x.Name).HasMaxLength(200);
        b.HasIndex(x => x.Name);
        b.HasIndex(x => new { x.Role, x.CreatedAt });
        b.HasIndex(x => new { x.Status, x.CreatedAt });
        b.HasIndex(x => x.CreatedAt);
    }
}

internal sealed class InstructionConfiguration : IEntityTypeConfiguration<Instruction>
{
    public void Configure(EntityTypeBuilder<Instruction> b)
    {
        b.HasOne(x => x.Dataset).WithMany(d => d.Instructions).HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.AnalysisTemplate).WithMany().HasForeignKey(x => x.AnalysisTemplateId).OnDelete(DeleteBehavior.SetNull);
        // Import writes rows by position: a rerun of an import chunk hits this key and skips.
        b.HasIndex(x => new { x.DatasetId, x.RowIndex }).IsUnique();
        // The analysis indexes are partial: an imported row has no analysis yet, so it enters none of them, and a
        // million-row import maintains only the key above (bench/Import.Bench). Queries over analysis results say
        // "Category IS NOT NULL" (and so on), which lets SQLite use these indexes.
        b.HasIndex(x => new { x.DatasetId, x.Category, x.Complexity }).HasFilter("\"Category\" IS NOT NULL");
        b.HasIndex(x => new { x.DatasetId, x.Complexity }).HasFilter("\"Complexity\" IS NOT NULL");
        b.HasIndex(x => new { x.DatasetId, x.LengthBucket }).HasFilter("\"LengthBucket\" IS NOT NULL");
        b.HasIndex(x => x.AnalysisTemplateId).HasFilter("\"AnalysisTemplateId\" IS NOT NULL");
        // No index on NormalizedHash or SourceId: both are random keys, and keeping a B-tree of a million random keys
        // up to date cost the import three quarters of its time (bench/Import.Bench). Nothing looks an instruction up
        // by either: contamination checks hash the few benchmark prompts into memory and scan the pool once.
    }
}

internal sealed class LabeledPairConfiguration : IEntityTypeConfiguration<LabeledPair>
{
    public void Configure(EntityTypeBuilder<LabeledPair> b)
    {
        b.HasOne(x => x.Dataset).WithMany(d => d.LabeledPairs).HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.DatasetId, x.RowIndex }).IsUnique();
        b.HasIndex(x => new { x.DatasetId, x.Subset, x.SourceId });
        b.HasIndex(x => x.NormalizedPromptHash);
    }
}
