using System.Text.Json.Nodes;

namespace Langfuse.Agents;

/// <summary>
/// Records an agent's decisions (routing, tool choice, plan selection) as <c>event</c> observations: the candidates as
/// input, the chosen option as output, metadata <c>decision.chosen</c>, <c>decision.reason</c> and
/// <c>decision.confidence</c>, and a <c>NUMERIC</c> <c>decision_confidence</c> score on the event.
/// </summary>
public static class LangfuseDecisionExtensions
{
    /// <summary>
    /// Records a decision as a child event of <paramref name="observation"/>: input <c>{"candidates":[...]}</c>,
    /// output <c>{"chosen":...}</c>, metadata <c>decision.chosen</c>, <c>decision.reason</c> and <c>decision.confidence</c>,
    /// and, when a confidence is given, the score <c>decision_confidence</c> on the event.
    /// </summary>
    /// <param name="observation">The observation that decided (usually an agent).</param>
    /// <param name="name">The decision's name, for example <c>route</c>.</param>
    /// <param name="chosen">The option chosen: a name such as a tool or agent name, not user text (privacy mode keeps it).</param>
    /// <param name="candidates">The options considered.</param>
    /// <param name="reason">A reason code, for example <c>needs_fresh_data</c> (privacy mode keeps it).</param>
    /// <param name="confidence">How sure the agent was, 0 to 1; other values are ignored.</param>
    /// <returns>The ended event.</returns>
    public static LangfuseObservation RecordDecision(
        this LangfuseObservation observation,
        string name,
        string chosen,
        IEnumerable<string>? candidates = null,
        string? reason = null,
        double? confidence = null)
    {
        ArgumentNullException.ThrowIfNull(observation);
        return Record(observation.Tracer, observation, name, chosen, candidates, reason, confidence);
    }

    /// <summary>Records a decision as a child event of the current observation (see the observation overload).</summary>
    /// <param name="tracer">The tracer.</param>
    /// <param name="name">The decision's name, for example <c>route</c>.</param>
    /// <param name="chosen">The option chosen.</param>
    /// <param name="candidates">The options considered.</param>
    /// <param name="reason">A reason code.</param>
    /// <param name="confidence">How sure the agent was, 0 to 1; other values are ignored.</param>
    /// <returns>The ended event.</returns>
    public static LangfuseObservation RecordDecision(
        this LangfuseTracer tracer,
        string name,
        string chosen,
        IEnumerable<string>? candidates = null,
        string? reason = null,
        double? confidence = null)
    {
        ArgumentNullException.ThrowIfNull(tracer);
        return Record(tracer, parent: null, name, chosen, candidates, reason, confidence);
    }

    private static LangfuseObservation Record(
        LangfuseTracer tracer,
        LangfuseObservation? parent,
        string name,
        string chosen,
        IEnumerable<string>? candidates,
        string? reason,
        double? confidence)
    {
        var options = new JsonArray();
        foreach (var candidate in candidates ?? [])
        {
            options.Add((JsonNode?)JsonValue.Create(candidate)); // the non-generic overload: trim- and AOT-safe
        }

        var valid = confidence is >= 0 and <= 1 ? confidence : null; // rejects NaN as well
        var metadata = new Dictionary<string, object?>(3, StringComparer.Ordinal) { [AgentMetadataKeys.DecisionChosen] = chosen };
        if (!string.IsNullOrEmpty(reason))
        {
            metadata[AgentMetadataKeys.DecisionReason] = reason;
        }

        if (valid is { } value)
        {
            metadata[AgentMetadataKeys.DecisionConfidence] = value;
        }

        var decision = tracer.RecordEvent(
            name,
            input: new JsonObject { ["candidates"] = options },
            output: new JsonObject { ["chosen"] = chosen },
            parent: parent,
            metadata: metadata);
        if (valid is { } score)
        {
            decision.Score(AgentScoreNames.DecisionConfidence, ScoreValue.Numeric(score));
        }

        return decision;
    }
}
