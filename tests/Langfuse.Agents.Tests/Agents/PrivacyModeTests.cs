using System.Text;
using System.Text.Json;
using Langfuse.Agents.Internal.Export;
using Langfuse.Agents.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Shouldly;
using Xunit;

namespace Langfuse.Agents.Tests.Agents;

/// <summary>Privacy mode: structure, timings, tokens and failures leave the process; prompt and output text never do.</summary>
public sealed class PrivacyModeTests : IAsyncLifetime
{
    private const string Prompt = "SECRET-PROMPT: summarize Jane's medical record";
    private const string Answer = "SECRET-ANSWER: Jane has";
    private const string ErrorText = "SECRET-ERROR quoting the prompt";

    private FakeLangfuseServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeLangfuseServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public void Preparer_DropsTextButKeepsStructureTokensAndTaxonomy()
    {
        using var t = new AgentTestTracer();
        LangfuseGeneration generation;
        LangfuseObservation tool;
        LangfuseObservation root;
        using (root = t.Tracer.StartTrace("query", sessionId: "s-1", userId: "u-1", input: Prompt))
        {
            root.Trace.Output = Answer;
            root.Trace.SetMetadata("note", Prompt).AddTags("research");
            using (generation = t.Tracer.StartGeneration("plan", model: "gpt-4o", input: new[] { new { role = "user", content = Prompt } }))
            {
                generation.Output = Answer;
                generation.SetUsage(input: 120, output: 45).SetCost(total: 0.002m).SetModelParameter("temperature", 0.2);
                generation.SetMetadata("free_text", Prompt).SetMetadata("documents", 4).SetMetadata("cached", true);
            }

            using (tool = t.Tracer.StartTool("web_search", input: Prompt))
            {
                tool.RecordFailure(FailureType.Tool, FailureCode.Timeout, ErrorText, new TimeoutException(ErrorText));
            }
        }

        var preparer = Preparer(new LangfuseOptions { PrivacyMode = true });

        var plan = preparer.Prepare(generation)!;
        plan.Input.ShouldBeNull();
        plan.Output.ShouldBeNull();
        plan.Model.ShouldBe("gpt-4o");
        JsonDocument.Parse(plan.UsageDetails!).RootElement.GetProperty("input").GetInt64().ShouldBe(120);
        plan.CostDetails.ShouldNotBeNull();
        plan.ModelParameters.ShouldNotBeNull();
        var planMetadata = JsonDocument.Parse(plan.Metadata!).RootElement;
        planMetadata.TryGetProperty("free_text", out _).ShouldBeFalse();
        planMetadata.GetProperty("documents").GetInt32().ShouldBe(4);
        planMetadata.GetProperty("cached").GetBoolean().ShouldBeTrue();

        var search = preparer.Prepare(tool)!;
        search.Input.ShouldBeNull();
        search.Level.ShouldBe(ObservationLevel.Error);
        search.StatusMessage.ShouldBe("tool/timeout");
        search.Exception!.Type.ShouldBe(typeof(TimeoutException).FullName);
        search.Exception.Message.ShouldBeEmpty();
        var searchMetadata = JsonDocument.Parse(search.Metadata!).RootElement;
        searchMetadata.GetProperty("failure.type").GetString().ShouldBe("tool");
        searchMetadata.GetProperty("failure.code").GetString().ShouldBe("timeout");

        var rootPrepared = preparer.Prepare(root)!;
        rootPrepared.Input.ShouldBeNull();
        rootPrepared.TraceInput.ShouldBeNull();
        rootPrepared.TraceOutput.ShouldBeNull();
        rootPrepared.TraceMetadata.ShouldBeNull();
        rootPrepared.TraceName.ShouldBe("query");
        rootPrepared.SessionId.ShouldBe("s-1");
        rootPrepared.Tags.ShouldBe(["research"]);
        (rootPrepared.EndTime - rootPrepared.StartTime).ShouldBeGreaterThanOrEqualTo(TimeSpan.Zero);

        // Off: the same observations keep their text.
        var open = Preparer(new LangfuseOptions());
        open.Prepare(tool)!.StatusMessage.ShouldBe($"tool/timeout: {ErrorText}");
        open.Prepare(generation)!.Output.ShouldBe(Answer);
    }

    [Fact]
    public void Preparer_KeepsTheAgentKeys_AndStatusIsTheExceptionTypeWithoutATaxonomy()
    {
        using var t = new AgentTestTracer();
        LangfuseObservation decision;
        LangfuseObservation delegation;
        LangfuseObservation attempt;
        using (var agent = t.Tracer.StartAgent("coordinator"))
        {
            decision = agent.RecordDecision("route", "search", ["search", "answer"], reason: "needs_fresh_data", confidence: 0.7);
            using (delegation = agent.StartDelegation("searcher", input: Prompt))
            {
                using (attempt = delegation.StartAttempt("fetch", 2, reason: "timeout"))
                {
                    attempt.RecordException(new InvalidOperationException(ErrorText));
                }
            }
        }

        var preparer = Preparer(new LangfuseOptions { PrivacyMode = true });
        var decisionMetadata = JsonDocument.Parse(preparer.Prepare(decision)!.Metadata!).RootElement;
        decisionMetadata.GetProperty("decision.chosen").GetString().ShouldBe("search");
        decisionMetadata.GetProperty("decision.reason").GetString().ShouldBe("needs_fresh_data");
        decisionMetadata.GetProperty("decision.confidence").GetDouble().ShouldBe(0.7);
        preparer.Prepare(decision)!.Input.ShouldBeNull();

        var delegationMetadata = JsonDocument.Parse(preparer.Prepare(delegation)!.Metadata!).RootElement;
        delegationMetadata.GetProperty("delegation.caller").GetString().ShouldBe("coordinator");
        delegationMetadata.GetProperty("delegation.callee").GetString().ShouldBe("searcher");

        var attemptPrepared = preparer.Prepare(attempt)!;
        attemptPrepared.StatusMessage.ShouldBe(nameof(InvalidOperationException));
        var attemptMetadata = JsonDocument.Parse(attemptPrepared.Metadata!).RootElement;
        attemptMetadata.GetProperty("attempt").GetInt32().ShouldBe(2);
        attemptMetadata.GetProperty("retry.reason").GetString().ShouldBe("timeout");
    }

    [Fact]
    public void Preparer_NeverHandsDroppedTextToTheMask()
    {
        var seen = new List<string>();
        using var t = new AgentTestTracer();
        var span = t.Tracer.StartSpan("step", input: Prompt);
        span.Output = Answer;
        span.SetMetadata("attempt", 1).SetMetadata("free_text", Prompt);
        span.End();

        var preparer = Preparer(new LangfuseOptions { PrivacyMode = true, Mask = v => { seen.Add(JsonSerializer.Serialize(v)); return v; } });
        var prepared = preparer.Prepare(span)!;

        prepared.Metadata.ShouldBe("""{"attempt":1}""");
        seen.ShouldNotBeEmpty();
        seen.ShouldAllBe(s => !s.Contains("SECRET", StringComparison.Ordinal));
    }

    [Fact]
    public void Preparer_ScoresLoseCommentsTextValuesAndFreeTextMetadata()
    {
        using var t = new AgentTestTracer();
        using (var span = t.Tracer.StartSpan("step"))
        {
            span.Score("feedback", ScoreValue.FromText(Answer), comment: Prompt);
            span.RecordQuality(QualitySignals.SchemaValid, true, comment: Prompt);
        }

        t.Tracer.ScoreTrace(t.Single("step").TraceId, "judged", 0.5, metadata: new Dictionary<string, object?> { ["judge_note"] = Prompt, ["tokens"] = 12 });
        var preparer = Preparer(new LangfuseOptions { PrivacyMode = true });
        var scores = t.Capture.Scores.Select(preparer.Prepare).ToList();

        scores.ShouldAllBe(s => s.Comment == null);
        scores[0].Value.ShouldBe(ScoreValue.FromText(ObservationPreparer.PrivacyRedactedText));
        scores[1].Value.ShouldBe(ScoreValue.Boolean(true));
        scores[2].Metadata.ShouldBe("""{"tokens":12}""");
    }

    [Fact]
    public void PrivacyMode_IsReadFromTheEnvironment()
    {
        LangfuseOptions.FromEnvironment(name => name == "LANGFUSE_PRIVACY_MODE" ? "true" : null).PrivacyMode.ShouldBeTrue();
        LangfuseOptions.FromEnvironment(_ => null).PrivacyMode.ShouldBeFalse();
    }

    [Fact]
    public async Task OtlpRequest_InPrivacyMode_CarriesNoInputOutputOrMessageText()
    {
        string traceId;
        await using (var tracer = new LangfuseTracer(
            new LangfuseOptions
            {
                PublicKey = _server.PublicKey,
                SecretKey = _server.SecretKey,
                BaseUrl = _server.BaseUrl,
                PrivacyMode = true,
                FlushInterval = TimeSpan.FromMinutes(10),
                BufferEnabled = false,
            },
            NullLoggerFactory.Instance))
        {
            using (var root = tracer.StartTrace("query", sessionId: "s-1", input: Prompt))
            {
                traceId = root.TraceId;
                root.Trace.Output = Answer;
                root.Trace.SetMetadata("note", Prompt);
                using (var coordinator = tracer.StartAgent("coordinator", input: Prompt))
                {
                    coordinator.RecordDecision("route", "search", ["search", "answer"], reason: "needs_fresh_data", confidence: 0.9);
                    using (var generation = tracer.StartGeneration("plan", model: "gpt-4o", input: Prompt))
                    {
                        generation.Output = Answer;
                        generation.SetUsage(input: 120, output: 45);
                        generation.RecordQuality(QualitySignals.SchemaValid, true, comment: Prompt);
                    }

                    using var delegation = coordinator.StartDelegation("searcher", input: Prompt);
                    await tracer.RunWithRetriesAsync("web_search", ObservationType.Tool, 2, (attempt, number) =>
                    {
                        attempt.Input = Prompt;
                        return number == 1 ? throw new TimeoutException(ErrorText) : Task.FromResult(Answer);
                    });
                }
            }

            (await tracer.FlushAsync(LoadedMachine.HangGuard)).Completed.ShouldBeTrue();
        }

        _server.Violations.ShouldBeEmpty();
        var spans = _server.Spans;
        spans.Count.ShouldBe(7);
        spans.ShouldAllBe(s => s.TraceId == traceId);
        foreach (var span in spans)
        {
            span.Attributes.Keys.ShouldNotContain("langfuse.observation.input");
            span.Attributes.Keys.ShouldNotContain("langfuse.observation.output");
            span.Attributes.Keys.ShouldNotContain("langfuse.trace.input");
            span.Attributes.Keys.ShouldNotContain("langfuse.trace.output");
            span.Attributes.Keys.ShouldNotContain("langfuse.trace.metadata");
        }

        // Not one byte of the text left the process, in any request.
        _server.Requests.ShouldNotBeEmpty();
        _server.Requests.ShouldAllBe(r => !Encoding.UTF8.GetString(r.Body).Contains("SECRET", StringComparison.Ordinal));

        var plan = spans.Single(s => s.Name == "plan");
        plan.Attr("langfuse.observation.model.name").ShouldBe("gpt-4o");
        plan.AttrJson("langfuse.observation.usage_details")!.Value.GetProperty("output").GetInt64().ShouldBe(45);

        var failed = spans.Single(s => s.Name == "web_search" && s.Attr("langfuse.observation.level") == "ERROR");
        failed.Attr("langfuse.observation.status_message").ShouldBe("tool/timeout");
        failed.StatusMessage.ShouldBe("tool/timeout");
        failed.AttrJson("langfuse.observation.metadata")!.Value.GetProperty("failure.code").GetString().ShouldBe("timeout");
        failed.Events.Single().Attributes["exception.type"].ShouldBe(typeof(TimeoutException).FullName);

        var retried = spans.Single(s => s.Name == "web_search" && s.Attr("langfuse.observation.level") is null);
        retried.AttrJson("langfuse.observation.metadata")!.Value.GetProperty("retry.reason").GetString().ShouldBe("timeout");
        spans.Single(s => s.Name == "searcher").AttrJson("langfuse.observation.metadata")!.Value
            .GetProperty("delegation.caller").GetString().ShouldBe("coordinator");
        spans.Single(s => s.Name == "route").AttrJson("langfuse.observation.metadata")!.Value
            .GetProperty("decision.reason").GetString().ShouldBe("needs_fresh_data");

        await _server.WaitForEventsAsync(3);
        var scores = _server.IngestionEvents.Where(e => e.Type == "score-create").ToList();
        scores.Select(s => s.Name).Order().ShouldBe(["decision_confidence", "failure", "schema_valid"]);
        scores.ShouldAllBe(s => s.Field("comment") == null);
    }

    private static ObservationPreparer Preparer(LangfuseOptions options) => new(options, NullLogger.Instance);
}
