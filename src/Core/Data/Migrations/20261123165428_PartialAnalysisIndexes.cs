using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SelfTaught.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class PartialAnalysisIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Instructions_AnalysisTemplateId",
                table: "Instructions");

            migrationBuilder.DropIndex(
                name: "IX_Instructions_DatasetId_Category_Complexity",
                table: "Instructions");

            migrationBuilder.DropIndex(
                name: "IX_Instructions_DatasetId_LengthBucket",
                table: "Instructions");

            migrationBuilder.CreateIndex(
                name: "IX_Instructions_AnalysisTemplateId",
                table: "Instructions",
                column: "AnalysisTemplateId",
                filter: "\"AnalysisTemplateId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_Instructions_DatasetId_Category_Complexity",
                table: "Instructions",
                columns: new[] { "DatasetId", "Category", "Complexity" },
                filter: "\"Category\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_Instructions_DatasetId_Complexity",
                table: "Instructions",
                columns: new[] { "DatasetId", "Complexity" },
                filter: "\"Complexity\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_Instructions_DatasetId_LengthBucket",
                table: "Instructions",
                columns: new[] { "DatasetId", "LengthBucket" },
                filter: "\"LengthBucket\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Instructions_AnalysisTemplateId",
                table: "Instructions");

            migrationBuilder.DropIndex(
                name: "IX_Instructions_DatasetId_Category_Complexity",
                table: "Instructions");

            migrationBuilder.DropIndex(
                name: "IX_Instructions_DatasetId_Complexity",
                table: "Instructions");

            migrationBuilder.DropIndex(
                name: "IX_Instructions_DatasetId_LengthBucket",
                table: "Instructions");

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
        }
    }
}
