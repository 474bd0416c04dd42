using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SelfTaught.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class InstructionImportIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Instructions_DatasetId_SourceId",
                table: "Instructions");

            migrationBuilder.DropIndex(
                name: "IX_Instructions_NormalizedHash",
                table: "Instructions");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_Instructions_DatasetId_SourceId",
                table: "Instructions",
                columns: new[] { "DatasetId", "SourceId" });

            migrationBuilder.CreateIndex(
                name: "IX_Instructions_NormalizedHash",
                table: "Instructions",
                column: "NormalizedHash");
        }
    }
}
