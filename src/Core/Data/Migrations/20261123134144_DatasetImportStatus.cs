using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace SelfTaught.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class DatasetImportStatus : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "DuplicateCount",
                table: "Datasets",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "ImportReportJson",
                table: "Datasets",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "RejectedCount",
                table: "Datasets",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<string>(
                name: "Status",
                table: "Datasets",
                type: "TEXT",
                maxLength: 32,
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateIndex(
                name: "IX_Datasets_Status_CreatedAt",
                table: "Datasets",
                columns: new[] { "Status", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Datasets_Status_CreatedAt",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "DuplicateCount",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "ImportReportJson",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "RejectedCount",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "Status",
                table: "Datasets");
        }
    }
}
