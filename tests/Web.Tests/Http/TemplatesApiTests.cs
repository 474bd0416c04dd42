using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using SelfTaught.Core.Data.Entities;
using SelfTaught.Core.Prompts;

namespace SelfTaught.Web.Tests.Http;

/// <summary>The prompt-template routes on the real app: built-ins registered at start-up, copies, deletes, an iteration's judge template.</summary>
[Collection(WebAppCollection.Name)]
public sealed class TemplatesApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object JudgeCopy(string name, string extra) => new
    {
        name,
        systemText = PromptLibrary.Get(PromptLibrary.JudgePairwise).SystemText + extra,
        userText = PromptLibrary.Get(PromptLibrary.JudgePairwise).UserText,
    };

    [Fact]
    public async Task List_ShowsEveryBuiltInFamily_AndGet_ReturnsTheTexts()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();

        var families = await client.GetFromJsonAsync<JsonElement>("/api/templates", Ct);
        var judge = families.EnumerateArray().Single(f => f.GetProperty("key").GetString() == PromptLibrary.JudgePairwise);
        var version = Assert.Single(judge.GetProperty("versions").EnumerateArray());
        var id = version.GetProperty("id").GetInt64();
        var detail = await client.GetFromJsonAsync<JsonElement>($"/api/templates/{id}", Ct);
        using var missing = await client.GetAsync("/api/templates/99999", Ct);

        Assert.Equal(PromptLibrary.BuiltInKeys.Order(StringComparer.Ordinal), families.EnumerateArray().Select(f => f.GetProperty("key").GetString()));
        Assert.Equal(["instruction", "response A", "response B"], judge.GetProperty("requiredPlaceholders").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal((1, true, false, 0), (version.GetProperty("version").GetInt32(), version.GetProperty("isBuiltIn").GetBoolean(),
            version.GetProperty("deletable").GetBoolean(), version.GetProperty("usage").GetProperty("total").GetInt32()));
        Assert.Equal(PromptLibrary.Get(PromptLibrary.JudgePairwise).ContentHash, version.GetProperty("contentHash").GetString());
        Assert.Equal(PromptLibrary.Get(PromptLibrary.JudgePairwise).UserText, detail.GetProperty("userText").GetString());
        Assert.Equal(PromptLibrary.Get(PromptLibrary.JudgePairwise).SystemText, detail.GetProperty("systemText").GetString());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Prompt template 99999 does not exist", await missing.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Copy_CreatesTheNextVersion_AndRefusesBadPlaceholdersDuplicatesAndMalformedBodies()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var builtIn = await BuiltInIdAsync(client, PromptLibrary.JudgePairwise);

        using var created = await client.PostAsJsonAsync($"/api/templates/{builtIn}/copy", JudgeCopy("step by step", " Think step by step."), Ct);
        var copy = await created.Content.ReadFromJsonAsync<JsonElement>(Ct);
        using var again = await client.PostAsJsonAsync($"/api/templates/{builtIn}/copy", JudgeCopy("same again", " Think step by step."), Ct);
        using var missingB = await client.PostAsJsonAsync($"/api/templates/{builtIn}/copy", new
        {
            name = "no B", systemText = "Judge.", userText = "{instruction}\nA: {response A}\nB: {response_B}",
        }, Ct);
        using var malformed = await client.PostAsync($"/api/templates/{builtIn}/copy", new StringContent("[1]", System.Text.Encoding.UTF8, "application/json"), Ct);
        using var unknown = await client.PostAsJsonAsync("/api/templates/99999/copy", JudgeCopy("x", " y"), Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/templates/{copy.GetProperty("id").GetInt64()}", created.Headers.Location?.OriginalString);
        Assert.Equal((2, false, builtIn, "step by step"), (copy.GetProperty("version").GetInt32(), copy.GetProperty("isBuiltIn").GetBoolean(),
            copy.GetProperty("parentId").GetInt64(), copy.GetProperty("name").GetString()));
        Assert.EndsWith("Think step by step.", copy.GetProperty("systemText").GetString());
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("identical to version 2 of judge-pairwise", await again.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, missingB.StatusCode);
        var problem = await missingB.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var userTextErrors = problem.GetProperty("errors").GetProperty("userText").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains(userTextErrors, e => e!.Contains("userText lacks {response B}", StringComparison.Ordinal));
        Assert.Contains(userTextErrors, e => e!.Contains("userText has {response_B}", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("not an object", await malformed.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        await using var db = factory.Database.CreateContext();
        Assert.Equal(2, await db.PromptTemplates.CountAsync(t => t.Key == PromptLibrary.JudgePairwise, Ct));
    }

    [Fact]
    public async Task JudgeTemplate_IsChosenBeforeJudging_AndKeepsTheVersionFromBeingDeleted()
    {
        await using var factory = new SelfTaughtWebFactory();
        using var client = factory.CreateClient();
        var builtIn = await BuiltInIdAsync(client, PromptLibrary.JudgePairwise);
        var synthesis = await BuiltInIdAsync(client, PromptLibrary.PairSynthesis);
        var used = (await (await client.PostAsJsonAsync($"/api/templates/{builtIn}/copy", JudgeCopy("used", " A."), Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetInt64();
        var unused = (await (await client.PostAsJsonAsync($"/api/templates/{builtIn}/copy", JudgeCopy("unused", " B."), Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetInt64();
        var experimentId = await CreateExperimentAsync(factory, client);
        var route = $"/api/experiments/{experimentId}/iterations/1/judge-template";

        using var chosen = await client.PutAsJsonAsync(route, new { templateId = used }, Ct);
        using var wrongFamily = await client.PutAsJsonAsync(route, new { templateId = synthesis }, Ct);
        using var misspelt = await client.PutAsJsonAsync(route, new { template = used }, Ct);
        using var noIteration = await client.PutAsJsonAsync($"/api/experiments/{experimentId}/iterations/9/judge-template", new { templateId = used }, Ct);
        using var deleteUsed = await client.DeleteAsync($"/api/templates/{used}", Ct);
        using var deleteBuiltIn = await client.DeleteAsync($"/api/templates/{builtIn}", Ct);
        using var deleteUnused = await client.DeleteAsync($"/api/templates/{unused}", Ct);
        using var deleteAgain = await client.DeleteAsync($"/api/templates/{unused}", Ct);

        Assert.Equal(HttpStatusCode.OK, chosen.StatusCode);
        var body = await chosen.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal((used, 2, "used"), (body.GetProperty("templateId").GetInt64(), body.GetProperty("version").GetInt32(), body.GetProperty("name").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, wrongFamily.StatusCode);
        Assert.Contains("needs a judge-pairwise template", await wrongFamily.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, misspelt.StatusCode);
        Assert.Contains("templateId", await misspelt.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, noIteration.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, deleteUsed.StatusCode);
        Assert.Equal("application/problem+json", deleteUsed.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"is used by the judge of iteration 1 of experiment {experimentId}", await deleteUsed.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.Conflict, deleteBuiltIn.StatusCode);
        Assert.Contains("is built in", await deleteBuiltIn.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.NoContent, deleteUnused.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, deleteAgain.StatusCode);

        // Once the iteration has judged a pair, its judge template is fixed.
        await using (var db = factory.Database.CreateContext())
        {
            var iteration = await db.Iterations.SingleAsync(i => i.ExperimentId == experimentId && i.Number == 1, Ct);
            Assert.Equal(used, iteration.JudgeTemplateId);
            var pair = new Pair { ExperimentId = experimentId, Method = PairMethod.Labeled, Prompt = "x", Chosen = "w", Rejected = "l", Status = PairStatus.Ready, CreatedAt = DateTime.UtcNow };
            db.Pairs.Add(pair);
            await db.SaveChangesAsync(Ct);
            db.Annotations.Add(new Annotation { IterationId = iteration.Id, PairId = pair.Id, JudgePrompt = "p", TemplateId = used, CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync(Ct);
        }
        using var afterJudging = await client.PutAsJsonAsync(route, new { templateId = (long?)null }, Ct);
        var list = await client.GetFromJsonAsync<JsonElement>("/api/templates", Ct);

        Assert.Equal(HttpStatusCode.Conflict, afterJudging.StatusCode);
        Assert.Contains("has already judged 1 pair", await afterJudging.Content.ReadAsStringAsync(Ct));
        var usedView = list.EnumerateArray().SelectMany(f => f.GetProperty("versions").EnumerateArray()).Single(v => v.GetProperty("id").GetInt64() == used);
        Assert.Equal((1, 1, 2), (usedView.GetProperty("usage").GetProperty("iterations").GetInt32(), usedView.GetProperty("usage").GetProperty("annotations").GetInt32(),
            usedView.GetProperty("usage").GetProperty("total").GetInt32()));
    }

    private static async Task<long> BuiltInIdAsync(HttpClient client, string key)
    {
        var families = await client.GetFromJsonAsync<JsonElement>("/api/templates", Ct);
        return families.EnumerateArray().Single(f => f.GetProperty("key").GetString() == key)
            .GetProperty("versions").EnumerateArray().Single(v => v.GetProperty("isBuiltIn").GetBoolean()).GetProperty("id").GetInt64();
    }

    private static async Task<long> CreateExperimentAsync(SelfTaughtWebFactory factory, HttpClient client)
    {
        long pool;
        await using (var db = factory.Database.CreateContext())
        {
            var dataset = new Dataset { Name = "pool", Role = DatasetRole.InstructionPool, Status = DatasetStatus.Ready, RowCount = 1, CreatedAt = DateTime.UtcNow };
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(Ct);
            pool = dataset.Id;
        }
        using var created = await client.PostAsJsonAsync("/api/experiments", new { name = "templates", datasetId = pool, seedModel = new { model = "m" } }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetInt64();
    }
}
