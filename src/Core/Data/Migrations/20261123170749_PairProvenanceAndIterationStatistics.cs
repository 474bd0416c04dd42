using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SelfTaught.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class PairProvenanceAndIterationStatistics : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "DetailsJson",
                table: "Pairs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ResponseTemplateId",
                table: "Pairs",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "StatisticsJson",
                table: "Iterations",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Pairs_ResponseTemplateId",
                table: "Pairs",
                column: "ResponseTemplateId");

            migrationBuilder.AddForeignKey(
                name: "FK_Pairs_PromptTemplates_ResponseTemplateId",
                table: "Pairs",
                column: "ResponseTemplateId",
                principalTable: "PromptTemplates",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Pairs_PromptTemplates_ResponseTemplateId",
                table: "Pairs");

            migrationBuilder.DropIndex(
                name: "IX_Pairs_ResponseTemplateId",
                table: "Pairs");

            migrationBuilder.DropColumn(
                name: "DetailsJson",
                table: "Pairs");

            migrationBuilder.DropColumn(
                name: "ResponseTemplateId",
                table: "Pairs");

            migrationBuilder.DropColumn(
                name: "StatisticsJson",
                table: "Iterations");
        }
    }
}
