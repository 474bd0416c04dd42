using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SelfTaught.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "BackendEndpoints",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    BaseUrl = table.Column<string>(type: "TEXT", nullable: false),
                    DefaultModel = table.Column<string>(type: "TEXT", nullable: true),
                    MaxConcurrentRequests = table.Column<int>(type: "INTEGER", nullable: false),
                    RequestTimeoutSeconds = table.Column<int>(type: "INTEGER", nullable: false),
                    ApiKeyReference = table.Column<string>(type: "TEXT", nullable: true),
                    NumCtx = table.Column<int>(type: "INTEGER", nullable: true),
                    AcceptsN = table.Column<bool>(type: "INTEGER", nullable: true),
                    Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_BackendEndpoints", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Datasets",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Role = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Preset = table.Column<string>(type: "TEXT", nullable: true),
                    Source = table.Column<string>(type: "TEXT", nullable: true),
                    SourceConfig = table.Column<string>(type: "TEXT", nullable: true),
                    SourceSplit = table.Column<string>(type: "TEXT", nullable: true),
                    SourceRevision = table.Column<string>(type: "TEXT", nullable: true),
                    ContentHash = table.Column<string>(type: "TEXT", nullable: true),
                    OptionsJson = table.Column<string>(type: "TEXT", nullable: true),
                    RowCount = table.Column<int>(type: "INTEGER", nullable: false),
                    Description = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Datasets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "PromptTemplates",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Key = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Version = table.Column<int>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    Source = table.Column<string>(type: "TEXT", nullable: true),
                    SystemText = table.Column<string>(type: "TEXT", nullable: true),
                    UserText = table.Column<string>(type: "TEXT", nullable: false),
                    IsBuiltIn = table.Column<bool>(type: "INTEGER", nullable: false),
                    ParentId = table.Column<long>(type: "INTEGER", nullable: true),
                    ContentHash = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_PromptTemplates", x => x.Id);
                    table.ForeignKey(
                        name: "FK_PromptTemplates_PromptTemplates_ParentId",
                        column: x => x.ParentId,
                        principalTable: "PromptTemplates",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "Experiments",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Description = table.Column<string>(type: "TEXT", nullable: true),
                    InstructionDatasetId = table.Column<long>(type: "INTEGER", nullable: false),
                    SeedEndpoint = table.Column<string>(type: "TEXT", nullable: true),
                    SeedModel = table.Column<string>(type: "TEXT", nullable: false),
                    GeneratorEndpoint = table.Column<string>(type: "TEXT", nullable: true),
                    GeneratorModel = table.Column<string>(type: "TEXT", nullable: false),
                    JudgeEndpoint = table.Column<string>(type: "TEXT", nullable: true),
                    JudgeModel = table.Column<string>(type: "TEXT", nullable: false),
                    Seed = table.Column<long>(type: "INTEGER", nullable: false),
                    SettingsJson = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Experiments", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Experiments_Datasets_InstructionDatasetId",
                        column: x => x.InstructionDatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "LabeledPairs",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    DatasetId = table.Column<long>(type: "INTEGER", nullable: false),
                    RowIndex = table.Column<int>(type: "INTEGER", nullable: false),
                    Subset = table.Column<string>(type: "TEXT", nullable: true),
                    SourceId = table.Column<string>(type: "TEXT", nullable: true),
                    Prompt = table.Column<string>(type: "TEXT", nullable: false),
                    ResponseA = table.Column<string>(type: "TEXT", nullable: false),
                    ResponseB = table.Column<string>(type: "TEXT", nullable: false),
                    Gold = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Turn = table.Column<int>(type: "INTEGER", nullable: false),
                    ModelA = table.Column<string>(type: "TEXT", nullable: true),
                    ModelB = table.Column<string>(type: "TEXT", nullable: true),
                    Judge = table.Column<string>(type: "TEXT", nullable: true),
                    AttributeScoresAJson = table.Column<string>(type: "TEXT", nullable: true),
                    AttributeScoresBJson = table.Column<string>(type: "TEXT", nullable: true),
                    MetadataJson = table.Column<string>(type: "TEXT", nullable: true),
                    NormalizedPromptHash = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LabeledPairs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_LabeledPairs_Datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Instructions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    DatasetId = table.Column<long>(type: "INTEGER", nullable: false),
                    RowIndex = table.Column<int>(type: "INTEGER", nullable: false),
                    SourceId = table.Column<string>(type: "TEXT", nullable: true),
                    Text = table.Column<string>(type: "TEXT", nullable: false),
                    Language = table.Column<string>(type: "TEXT", nullable: true),
                    TurnCount = table.Column<int>(type: "INTEGER", nullable: false),
                    ReferenceAnswer = table.Column<string>(type: "TEXT", nullable: true),
                    MetadataJson = table.Column<string>(type: "TEXT", nullable: true),
                    NormalizedHash = table.Column<string>(type: "TEXT", nullable: true),
                    Category = table.Column<string>(type: "TEXT", nullable: true),
                    Complexity = table.Column<int>(type: "INTEGER", nullable: true),
                    LengthBucket = table.Column<char>(type: "TEXT", nullable: true),
                    AnalysisModel = table.Column<string>(type: "TEXT", nullable: true),
                    AnalysisTemplateId = table.Column<long>(type: "INTEGER", nullable: true),
                    AnalysisRawOutput = table.Column<string>(type: "TEXT", nullable: true),
                    AnalysisError = table.Column<string>(type: "TEXT", nullable: true),
                    AnalyzedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    AnalysisStageRunId = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Instructions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Instructions_Datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Instructions_PromptTemplates_AnalysisTemplateId",
                        column: x => x.AnalysisTemplateId,
                        principalTable: "PromptTemplates",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "ExperimentInstructions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ExperimentId = table.Column<long>(type: "INTEGER", nullable: false),
                    InstructionId = table.Column<long>(type: "INTEGER", nullable: false),
                    Contamination = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    ContaminationMatch = table.Column<string>(type: "TEXT", nullable: true),
                    Excluded = table.Column<bool>(type: "INTEGER", nullable: false),
                    StageRunId = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ExperimentInstructions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ExperimentInstructions_Experiments_ExperimentId",
                        column: x => x.ExperimentId,
                        principalTable: "Experiments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_ExperimentInstructions_Instructions_InstructionId",
                        column: x => x.InstructionId,
                        principalTable: "Instructions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Pairs",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ExperimentId = table.Column<long>(type: "INTEGER", nullable: false),
                    InstructionId = table.Column<long>(type: "INTEGER", nullable: true),
                    SourceLabeledPairId = table.Column<long>(type: "INTEGER", nullable: true),
                    Method = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Prompt = table.Column<string>(type: "TEXT", nullable: false),
                    ModifiedPrompt = table.Column<string>(type: "TEXT", nullable: true),
                    Chosen = table.Column<string>(type: "TEXT", nullable: true),
                    Rejected = table.Column<string>(type: "TEXT", nullable: true),
                    GeneratorEndpoint = table.Column<string>(type: "TEXT", nullable: true),
                    GeneratorModel = table.Column<string>(type: "TEXT", nullable: true),
                    TemplateId = table.Column<long>(type: "INTEGER", nullable: true),
                    RawOutput = table.Column<string>(type: "TEXT", nullable: true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Error = table.Column<string>(type: "TEXT", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    HeldOut = table.Column<bool>(type: "INTEGER", nullable: false),
                    PromptTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    CompletionTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    StageRunId = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Pairs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Pairs_Experiments_ExperimentId",
                        column: x => x.ExperimentId,
                        principalTable: "Experiments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Pairs_Instructions_InstructionId",
                        column: x => x.InstructionId,
                        principalTable: "Instructions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_Pairs_LabeledPairs_SourceLabeledPairId",
                        column: x => x.SourceLabeledPairId,
                        principalTable: "LabeledPairs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_Pairs_PromptTemplates_TemplateId",
                        column: x => x.TemplateId,
                        principalTable: "PromptTemplates",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "Annotations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    IterationId = table.Column<long>(type: "INTEGER", nullable: false),
                    PairId = table.Column<long>(type: "INTEGER", nullable: false),
                    ChosenPosition = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Gold = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    JudgePrompt = table.Column<string>(type: "TEXT", nullable: false),
                    TemplateId = table.Column<long>(type: "INTEGER", nullable: true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    KeptSampleIndex = table.Column<int>(type: "INTEGER", nullable: true),
                    FullN = table.Column<bool>(type: "INTEGER", nullable: false),
                    SamplesDrawn = table.Column<int>(type: "INTEGER", nullable: false),
                    CorrectCount = table.Column<int>(type: "INTEGER", nullable: false),
                    InvalidCount = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Annotations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Annotations_Pairs_PairId",
                        column: x => x.PairId,
                        principalTable: "Pairs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Annotations_PromptTemplates_TemplateId",
                        column: x => x.TemplateId,
                        principalTable: "PromptTemplates",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "AuditAssignments",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AuditSessionId = table.Column<long>(type: "INTEGER", nullable: false),
                    PairId = table.Column<long>(type: "INTEGER", nullable: false),
                    AnnotationId = table.Column<long>(type: "INTEGER", nullable: true),
                    Ordinal = table.Column<int>(type: "INTEGER", nullable: false),
                    DisplayChosenPosition = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Stratum = table.Column<string>(type: "TEXT", nullable: true),
                    Weight = table.Column<double>(type: "REAL", nullable: false),
                    RequiredReviews = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditAssignments", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AuditAssignments_Annotations_AnnotationId",
                        column: x => x.AnnotationId,
                        principalTable: "Annotations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_AuditAssignments_Pairs_PairId",
                        column: x => x.PairId,
                        principalTable: "Pairs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AuditLabels",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AuditAssignmentId = table.Column<long>(type: "INTEGER", nullable: false),
                    Reviewer = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Choice = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    PrefersChosen = table.Column<bool>(type: "INTEGER", nullable: true),
                    ReasoningRating = table.Column<int>(type: "INTEGER", nullable: true),
                    Comment = table.Column<string>(type: "TEXT", nullable: true),
                    DurationMs = table.Column<int>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditLabels", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AuditLabels_AuditAssignments_AuditAssignmentId",
                        column: x => x.AuditAssignmentId,
                        principalTable: "AuditAssignments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "AuditSessions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    ExperimentId = table.Column<long>(type: "INTEGER", nullable: false),
                    IterationId = table.Column<long>(type: "INTEGER", nullable: true),
                    Sampling = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Seed = table.Column<long>(type: "INTEGER", nullable: false),
                    SampleSize = table.Column<int>(type: "INTEGER", nullable: false),
                    OverlapShare = table.Column<double>(type: "REAL", nullable: false),
                    ReviewersPerOverlapItem = table.Column<int>(type: "INTEGER", nullable: false),
                    StrataJson = table.Column<string>(type: "TEXT", nullable: true),
                    CompareWithJudge = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditSessions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AuditSessions_Experiments_ExperimentId",
                        column: x => x.ExperimentId,
                        principalTable: "Experiments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "CandidateModels",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    IterationId = table.Column<long>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    Endpoint = table.Column<string>(type: "TEXT", nullable: true),
                    Model = table.Column<string>(type: "TEXT", nullable: false),
                    Digest = table.Column<string>(type: "TEXT", nullable: true),
                    Checkpoint = table.Column<int>(type: "INTEGER", nullable: true),
                    IsChosen = table.Column<bool>(type: "INTEGER", nullable: false),
                    Notes = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CandidateModels", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "EvaluationRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Benchmark = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    DatasetId = table.Column<long>(type: "INTEGER", nullable: true),
                    ExperimentId = table.Column<long>(type: "INTEGER", nullable: true),
                    CandidateModelId = table.Column<long>(type: "INTEGER", nullable: true),
                    Endpoint = table.Column<string>(type: "TEXT", nullable: true),
                    Model = table.Column<string>(type: "TEXT", nullable: false),
                    ModelDigest = table.Column<string>(type: "TEXT", nullable: true),
                    TemplateId = table.Column<long>(type: "INTEGER", nullable: true),
                    PositionMode = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Samples = table.Column<int>(type: "INTEGER", nullable: false),
                    Temperature = table.Column<double>(type: "REAL", nullable: false),
                    TopP = table.Column<double>(type: "REAL", nullable: false),
                    MaxTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    Seed = table.Column<long>(type: "INTEGER", nullable: false),
                    SeedsJson = table.Column<string>(type: "TEXT", nullable: true),
                    OptionsJson = table.Column<string>(type: "TEXT", nullable: true),
                    Imported = table.Column<bool>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    SummaryJson = table.Column<string>(type: "TEXT", nullable: true),
                    StageRunId = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CompletedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_EvaluationRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_EvaluationRuns_CandidateModels_CandidateModelId",
                        column: x => x.CandidateModelId,
                        principalTable: "CandidateModels",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_EvaluationRuns_Datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_EvaluationRuns_Experiments_ExperimentId",
                        column: x => x.ExperimentId,
                        principalTable: "Experiments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_EvaluationRuns_PromptTemplates_TemplateId",
                        column: x => x.TemplateId,
                        principalTable: "PromptTemplates",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "Iterations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ExperimentId = table.Column<long>(type: "INTEGER", nullable: false),
                    Number = table.Column<int>(type: "INTEGER", nullable: false),
                    JudgeEndpoint = table.Column<string>(type: "TEXT", nullable: true),
                    JudgeModel = table.Column<string>(type: "TEXT", nullable: false),
                    JudgeCandidateModelId = table.Column<long>(type: "INTEGER", nullable: true),
                    JudgeTemplateId = table.Column<long>(type: "INTEGER", nullable: true),
                    Seed = table.Column<long>(type: "INTEGER", nullable: false),
                    SamplesPerPair = table.Column<int>(type: "INTEGER", nullable: false),
                    EarlyStop = table.Column<bool>(type: "INTEGER", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    SettingsJson = table.Column<string>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Iterations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Iterations_CandidateModels_JudgeCandidateModelId",
                        column: x => x.JudgeCandidateModelId,
                        principalTable: "CandidateModels",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_Iterations_Experiments_ExperimentId",
                        column: x => x.ExperimentId,
                        principalTable: "Experiments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Iterations_PromptTemplates_JudgeTemplateId",
                        column: x => x.JudgeTemplateId,
                        principalTable: "PromptTemplates",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "EvaluationResults",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    EvaluationRunId = table.Column<long>(type: "INTEGER", nullable: false),
                    ExampleKey = table.Column<string>(type: "TEXT", nullable: false),
                    LabeledPairId = table.Column<long>(type: "INTEGER", nullable: true),
                    PairId = table.Column<long>(type: "INTEGER", nullable: true),
                    Subset = table.Column<string>(type: "TEXT", nullable: true),
                    ChosenPosition = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    SampleIndex = table.Column<int>(type: "INTEGER", nullable: false),
                    ChoiceIndex = table.Column<int>(type: "INTEGER", nullable: false),
                    RawCompletion = table.Column<string>(type: "TEXT", nullable: true),
                    Verdict = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    Score = table.Column<double>(type: "REAL", nullable: false),
                    RequestSeed = table.Column<long>(type: "INTEGER", nullable: true),
                    PromptTokens = table.Column<int>(type: "INTEGER", nullable: true),
                    CompletionTokens = table.Column<int>(type: "INTEGER", nullable: true),
                    LatencyMs = table.Column<int>(type: "INTEGER", nullable: true),
                    FinishReason = table.Column<string>(type: "TEXT", nullable: true),
                    Error = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_EvaluationResults", x => x.Id);
                    table.ForeignKey(
                        name: "FK_EvaluationResults_EvaluationRuns_EvaluationRunId",
                        column: x => x.EvaluationRunId,
                        principalTable: "EvaluationRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "JudgmentSamples",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AnnotationId = table.Column<long>(type: "INTEGER", nullable: false),
                    IterationId = table.Column<long>(type: "INTEGER", nullable: false),
                    PairId = table.Column<long>(type: "INTEGER", nullable: false),
                    SampleIndex = table.Column<int>(type: "INTEGER", nullable: false),
                    TemplateId = table.Column<long>(type: "INTEGER", nullable: true),
                    RawCompletion = table.Column<string>(type: "TEXT", nullable: true),
                    Verdict = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    Correct = table.Column<bool>(type: "INTEGER", nullable: true),
                    Model = table.Column<string>(type: "TEXT", nullable: true),
                    Endpoint = table.Column<string>(type: "TEXT", nullable: true),
                    Temperature = table.Column<double>(type: "REAL", nullable: false),
                    TopP = table.Column<double>(type: "REAL", nullable: false),
                    MaxTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    RequestSeed = table.Column<long>(type: "INTEGER", nullable: true),
                    ChoiceIndex = table.Column<int>(type: "INTEGER", nullable: false),
                    PromptTokens = table.Column<int>(type: "INTEGER", nullable: true),
                    CompletionTokens = table.Column<int>(type: "INTEGER", nullable: true),
                    LatencyMs = table.Column<int>(type: "INTEGER", nullable: true),
                    FinishReason = table.Column<string>(type: "TEXT", nullable: true),
                    Error = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_JudgmentSamples", x => x.Id);
                    table.ForeignKey(
                        name: "FK_JudgmentSamples_Annotations_AnnotationId",
                        column: x => x.AnnotationId,
                        principalTable: "Annotations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_JudgmentSamples_Iterations_IterationId",
                        column: x => x.IterationId,
                        principalTable: "Iterations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_JudgmentSamples_Pairs_PairId",
                        column: x => x.PairId,
                        principalTable: "Pairs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_JudgmentSamples_PromptTemplates_TemplateId",
                        column: x => x.TemplateId,
                        principalTable: "PromptTemplates",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "StageRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    DatasetId = table.Column<long>(type: "INTEGER", nullable: true),
                    ExperimentId = table.Column<long>(type: "INTEGER", nullable: true),
                    IterationId = table.Column<long>(type: "INTEGER", nullable: true),
                    EvaluationRunId = table.Column<long>(type: "INTEGER", nullable: true),
                    SettingsJson = table.Column<string>(type: "TEXT", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Total = table.Column<int>(type: "INTEGER", nullable: false),
                    Done = table.Column<int>(type: "INTEGER", nullable: false),
                    Failed = table.Column<int>(type: "INTEGER", nullable: false),
                    Skipped = table.Column<int>(type: "INTEGER", nullable: false),
                    PromptTokens = table.Column<long>(type: "INTEGER", nullable: false),
                    CompletionTokens = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    FinishedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: true),
                    LastError = table.Column<string>(type: "TEXT", nullable: true),
                    PauseRequested = table.Column<bool>(type: "INTEGER", nullable: false),
                    CancelRequested = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_StageRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_StageRuns_Datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "Datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_StageRuns_EvaluationRuns_EvaluationRunId",
                        column: x => x.EvaluationRunId,
                        principalTable: "EvaluationRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_StageRuns_Experiments_ExperimentId",
                        column: x => x.ExperimentId,
                        principalTable: "Experiments",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_StageRuns_Iterations_IterationId",
                        column: x => x.IterationId,
                        principalTable: "Iterations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "TrainingSets",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    IterationId = table.Column<long>(type: "INTEGER", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Seed = table.Column<long>(type: "INTEGER", nullable: false),
                    Size = table.Column<int>(type: "INTEGER", nullable: false),
                    GoldACount = table.Column<int>(type: "INTEGER", nullable: false),
                    GoldBCount = table.Column<int>(type: "INTEGER", nullable: false),
                    OverMaxLengthCount = table.Column<int>(type: "INTEGER", nullable: false),
                    ManifestJson = table.Column<string>(type: "TEXT", nullable: false),
                    ContentHash = table.Column<string>(type: "TEXT", nullable: true),
                    StageRunId = table.Column<long>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TrainingSets", x => x.Id);
                    table.ForeignKey(
                        name: "FK_TrainingSets_Iterations_IterationId",
                        column: x => x.IterationId,
                        principalTable: "Iterations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "StageRunFailures",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    StageRunId = table.Column<long>(type: "INTEGER", nullable: false),
                    ItemId = table.Column<long>(type: "INTEGER", nullable: false),
                    Message = table.Column<string>(type: "TEXT", nullable: false),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    OccurredAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_StageRunFailures", x => x.Id);
                    table.ForeignKey(
                        name: "FK_StageRunFailures_StageRuns_StageRunId",
                        column: x => x.StageRunId,
                        principalTable: "StageRuns",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "TrainingSetMembers",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    TrainingSetId = table.Column<long>(type: "INTEGER", nullable: false),
                    AnnotationId = table.Column<long>(type: "INTEGER", nullable: false),
                    ChosenSampleId = table.Column<long>(type: "INTEGER", nullable: false),
                    RejectedSampleId = table.Column<long>(type: "INTEGER", nullable: true),
                    Ordinal = table.Column<int>(type: "INTEGER", nullable: false),
                    TokenCount = table.Column<int>(type: "INTEGER", nullable: true),
                    OverMaxLength = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TrainingSetMembers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_TrainingSetMembers_Annotations_AnnotationId",
                        column: x => x.AnnotationId,
                        principalTable: "Annotations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_TrainingSetMembers_JudgmentSamples_ChosenSampleId",
                        column: x => x.ChosenSampleId,
                        principalTable: "JudgmentSamples",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_TrainingSetMembers_JudgmentSamples_RejectedSampleId",
                        column: x => x.RejectedSampleId,
                        principalTable: "JudgmentSamples",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_TrainingSetMembers_TrainingSets_TrainingSetId",
                        column: x => x.TrainingSetId,
                        principalTable: "TrainingSets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Annotations_IterationId_FullN",
                table: "Annotations",
                columns: new[] { "IterationId", "FullN" });

            migrationBuilder.CreateIndex(
                name: "IX_Annotations_IterationId_PairId",
                table: "Annotations",
                columns: new[] { "IterationId", "PairId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Annotations_IterationId_Status",
                table: "Annotations",
                columns: new[] { "IterationId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_Annotations_PairId",
                table: "Annotations",
                column: "PairId");

            migrationBuilder.CreateIndex(
                name: "IX_Annotations_TemplateId",
                table: "Annotations",
                column: "TemplateId");

            migrationBuilder.CreateIndex(
                name: "IX_AuditAssignments_AnnotationId",
                table: "AuditAssignments",
                column: "AnnotationId");

            migrationBuilder.CreateIndex(
                name: "IX_AuditAssignments_AuditSessionId_Ordinal",
                table: "AuditAssignments",
                columns: new[] { "AuditSessionId", "Ordinal" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditAssignments_AuditSessionId_PairId_AnnotationId",
                table: "AuditAssignments",
                columns: new[] { "AuditSessionId", "PairId", "AnnotationId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditAssignments_AuditSessionId_PairId_NoAnnotation",
                table: "AuditAssignments",
                columns: new[] { "AuditSessionId", "PairId" },
                unique: true,
                filter: "\"AnnotationId\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_AuditAssignments_PairId",
                table: "AuditAssignments",
                column: "PairId");

            migrationBuilder.CreateIndex(
                name: "IX_AuditLabels_AuditAssignmentId_Reviewer",
                table: "AuditLabels",
                columns: new[] { "AuditAssignmentId", "Reviewer" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditLabels_Reviewer",
                table: "AuditLabels",
                column: "Reviewer");

            migrationBuilder.CreateIndex(
                name: "IX_AuditSessions_CreatedAt",
                table: "AuditSessions",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_AuditSessions_ExperimentId",
                table: "AuditSessions",
                column: "ExperimentId");

            migrationBuilder.CreateIndex(
                name: "IX_AuditSessions_IterationId",
                table: "AuditSessions",
                column: "IterationId");

            migrationBuilder.CreateIndex(
                name: "IX_BackendEndpoints_Name",
                table: "BackendEndpoints",
                column: "Name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_CandidateModels_IterationId_Chosen",
                table: "CandidateModels",
                column: "IterationId",
                unique: true,
                filter: "\"IsChosen\"");

            migrationBuilder.CreateIndex(
                name: "IX_CandidateModels_IterationId_Endpoint_Model",
                table: "CandidateModels",
                columns: new[] { "IterationId", "Endpoint", "Model" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_CandidateModels_IterationId_Model_AnyEndpoint",
                table: "CandidateModels",
                columns: new[] { "IterationId", "Model" },
                unique: true,
                filter: "\"Endpoint\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_Datasets_CreatedAt",
                table: "Datasets",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_Datasets_Name",
                table: "Datasets",
                column: "Name");

            migrationBuilder.CreateIndex(
                name: "IX_Datasets_Role_CreatedAt",
                table: "Datasets",
                columns: new[] { "Role", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_EvaluationResults_EvaluationRunId_ExampleKey_ChosenPosition_SampleIndex",
                table: "EvaluationResults",
                columns: new[] { "EvaluationRunId", "ExampleKey", "ChosenPosition", "SampleIndex" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_EvaluationResults_EvaluationRunId_Subset",
                table: "EvaluationResults",
                columns: new[] { "EvaluationRunId", "Subset" });

            migrationBuilder.CreateIndex(
                name: "IX_EvaluationRuns_Benchmark_CreatedAt",
                table: "EvaluationRuns",
                columns: new[] { "Benchmark", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_EvaluationRuns_CandidateModelId",
                table: "EvaluationRuns",
                column: "CandidateModelId");

            migrationBuilder.CreateIndex(
                name: "IX_EvaluationRuns_CreatedAt",
                table: "EvaluationRuns",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_EvaluationRuns_DatasetId",
                table: "EvaluationRuns",
                column: "DatasetId");

            migrationBuilder.CreateIndex(
                name: "IX_EvaluationRuns_ExperimentId",
                table: "EvaluationRuns",
                column: "ExperimentId");

            migrationBuilder.CreateIndex(
                name: "IX_EvaluationRuns_TemplateId",
                table: "EvaluationRuns",
                column: "TemplateId");

            migrationBuilder.CreateIndex(
                name: "IX_ExperimentInstructions_ExperimentId_Excluded_Contamination",
                table: "ExperimentInstructions",
                columns: new[] { "ExperimentId", "Excluded", "Contamination" });

            migrationBuilder.CreateIndex(
                name: "IX_ExperimentInstructions_ExperimentId_InstructionId",
                table: "ExperimentInstructions",
                columns: new[] { "ExperimentId", "InstructionId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_ExperimentInstructions_InstructionId",
                table: "ExperimentInstructions",
                column: "InstructionId");

            migrationBuilder.CreateIndex(
                name: "IX_Experiments_CreatedAt",
                table: "Experiments",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_Experiments_InstructionDatasetId",
                table: "Experiments",
                column: "InstructionDatasetId");

            migrationBuilder.CreateIndex(
                name: "IX_Instructions_AnalysisTemplateId",
                table: "Instructions",
                column: "AnalysisTemplateId");

            migrationBuilder.CreateIndex(
                name: "IX_Instructions_DatasetId_Category_Complexity",
                table: "Instructions",
                columns: new[] { "DatasetId", "Category", "Complexity" });

            migrationBuilder.CreateIndex(
                name: "IX_Instructions_DatasetId_LengthBucket",
                table: "Instructions",
                columns: new[] { "DatasetId", "LengthBucket" });

            migrationBuilder.CreateIndex(
                name: "IX_Instructions_DatasetId_RowIndex",
                table: "Instructions",
                columns: new[] { "DatasetId", "RowIndex" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Instructions_DatasetId_SourceId",
                table: "Instructions",
                columns: new[] { "DatasetId", "SourceId" });

            migrationBuilder.CreateIndex(
                name: "IX_Instructions_NormalizedHash",
                table: "Instructions",
                column: "NormalizedHash");

            migrationBuilder.CreateIndex(
                name: "IX_Iterations_ExperimentId_Number",
                table: "Iterations",
                columns: new[] { "ExperimentId", "Number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Iterations_JudgeCandidateModelId",
                table: "Iterations",
                column: "JudgeCandidateModelId");

            migrationBuilder.CreateIndex(
                name: "IX_Iterations_JudgeTemplateId",
                table: "Iterations",
                column: "JudgeTemplateId");

            migrationBuilder.CreateIndex(
                name: "IX_JudgmentSamples_AnnotationId",
                table: "JudgmentSamples",
                column: "AnnotationId");

            migrationBuilder.CreateIndex(
                name: "IX_JudgmentSamples_IterationId_Correct_Id",
                table: "JudgmentSamples",
                columns: new[] { "IterationId", "Correct", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_JudgmentSamples_IterationId_PairId_SampleIndex",
                table: "JudgmentSamples",
                columns: new[] { "IterationId", "PairId", "SampleIndex" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_JudgmentSamples_IterationId_Verdict_Id",
                table: "JudgmentSamples",
                columns: new[] { "IterationId", "Verdict", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_JudgmentSamples_PairId",
                table: "JudgmentSamples",
                column: "PairId");

            migrationBuilder.CreateIndex(
                name: "IX_JudgmentSamples_TemplateId",
                table: "JudgmentSamples",
                column: "TemplateId");

            migrationBuilder.CreateIndex(
                name: "IX_LabeledPairs_DatasetId_RowIndex",
                table: "LabeledPairs",
                columns: new[] { "DatasetId", "RowIndex" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_LabeledPairs_DatasetId_Subset_SourceId",
                table: "LabeledPairs",
                columns: new[] { "DatasetId", "Subset", "SourceId" });

            migrationBuilder.CreateIndex(
                name: "IX_LabeledPairs_NormalizedPromptHash",
                table: "LabeledPairs",
                column: "NormalizedPromptHash");

            migrationBuilder.CreateIndex(
                name: "IX_Pairs_ExperimentId_HeldOut",
                table: "Pairs",
                columns: new[] { "ExperimentId", "HeldOut" });

            migrationBuilder.CreateIndex(
                name: "IX_Pairs_ExperimentId_Method_InstructionId",
                table: "Pairs",
                columns: new[] { "ExperimentId", "Method", "InstructionId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Pairs_ExperimentId_Method_SourceLabeledPairId",
                table: "Pairs",
                columns: new[] { "ExperimentId", "Method", "SourceLabeledPairId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Pairs_ExperimentId_Status_Id",
                table: "Pairs",
                columns: new[] { "ExperimentId", "Status", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Pairs_InstructionId",
                table: "Pairs",
                column: "InstructionId");

            migrationBuilder.CreateIndex(
                name: "IX_Pairs_SourceLabeledPairId",
                table: "Pairs",
                column: "SourceLabeledPairId");

            migrationBuilder.CreateIndex(
                name: "IX_Pairs_TemplateId",
                table: "Pairs",
                column: "TemplateId");

            migrationBuilder.CreateIndex(
                name: "IX_PromptTemplates_ContentHash",
                table: "PromptTemplates",
                column: "ContentHash");

            migrationBuilder.CreateIndex(
                name: "IX_PromptTemplates_Key_Version",
                table: "PromptTemplates",
                columns: new[] { "Key", "Version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_PromptTemplates_ParentId",
                table: "PromptTemplates",
                column: "ParentId");

            migrationBuilder.CreateIndex(
                name: "IX_StageRunFailures_StageRunId_ItemId",
                table: "StageRunFailures",
                columns: new[] { "StageRunId", "ItemId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_StageRuns_CreatedAt",
                table: "StageRuns",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_StageRuns_DatasetId",
                table: "StageRuns",
                column: "DatasetId");

            migrationBuilder.CreateIndex(
                name: "IX_StageRuns_EvaluationRunId",
                table: "StageRuns",
                column: "EvaluationRunId");

            migrationBuilder.CreateIndex(
                name: "IX_StageRuns_ExperimentId",
                table: "StageRuns",
                column: "ExperimentId");

            migrationBuilder.CreateIndex(
                name: "IX_StageRuns_IterationId",
                table: "StageRuns",
                column: "IterationId");

            migrationBuilder.CreateIndex(
                name: "IX_StageRuns_Status_CreatedAt",
                table: "StageRuns",
                columns: new[] { "Status", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_TrainingSetMembers_AnnotationId",
                table: "TrainingSetMembers",
                column: "AnnotationId");

            migrationBuilder.CreateIndex(
                name: "IX_TrainingSetMembers_ChosenSampleId",
                table: "TrainingSetMembers",
                column: "ChosenSampleId");

            migrationBuilder.CreateIndex(
                name: "IX_TrainingSetMembers_RejectedSampleId",
                table: "TrainingSetMembers",
                column: "RejectedSampleId");

            migrationBuilder.CreateIndex(
                name: "IX_TrainingSetMembers_TrainingSetId_AnnotationId",
                table: "TrainingSetMembers",
                columns: new[] { "TrainingSetId", "AnnotationId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_TrainingSetMembers_TrainingSetId_Ordinal",
                table: "TrainingSetMembers",
                columns: new[] { "TrainingSetId", "Ordinal" });

            migrationBuilder.CreateIndex(
                name: "IX_TrainingSets_IterationId_Kind",
                table: "TrainingSets",
                columns: new[] { "IterationId", "Kind" },
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_Annotations_Iterations_IterationId",
                table: "Annotations",
                column: "IterationId",
                principalTable: "Iterations",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_AuditAssignments_AuditSessions_AuditSessionId",
                table: "AuditAssignments",
                column: "AuditSessionId",
                principalTable: "AuditSessions",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_AuditSessions_Iterations_IterationId",
                table: "AuditSessions",
                column: "IterationId",
                principalTable: "Iterations",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);

            migrationBuilder.AddForeignKey(
                name: "FK_CandidateModels_Iterations_IterationId",
                table: "CandidateModels",
                column: "IterationId",
                principalTable: "Iterations",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_CandidateModels_Iterations_IterationId",
                table: "CandidateModels");

            migrationBuilder.DropTable(
                name: "AuditLabels");

            migrationBuilder.DropTable(
                name: "BackendEndpoints");

            migrationBuilder.DropTable(
                name: "EvaluationResults");

            migrationBuilder.DropTable(
                name: "ExperimentInstructions");

            migrationBuilder.DropTable(
                name: "StageRunFailures");

            migrationBuilder.DropTable(
                name: "TrainingSetMembers");

            migrationBuilder.DropTable(
                name: "AuditAssignments");

            migrationBuilder.DropTable(
                name: "StageRuns");

            migrationBuilder.DropTable(
                name: "JudgmentSamples");

            migrationBuilder.DropTable(
                name: "TrainingSets");

            migrationBuilder.DropTable(
                name: "AuditSessions");

            migrationBuilder.DropTable(
                name: "EvaluationRuns");

            migrationBuilder.DropTable(
                name: "Annotations");

            migrationBuilder.DropTable(
                name: "Pairs");

            migrationBuilder.DropTable(
                name: "Instructions");

            migrationBuilder.DropTable(
                name: "LabeledPairs");

            migrationBuilder.DropTable(
                name: "Iterations");

            migrationBuilder.DropTable(
                name: "CandidateModels");

            migrationBuilder.DropTable(
                name: "Experiments");

            migrationBuilder.DropTable(
                name: "PromptTemplates");

            migrationBuilder.DropTable(
                name: "Datasets");
        }
    }
}
