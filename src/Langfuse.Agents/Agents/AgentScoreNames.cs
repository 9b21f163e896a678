namespace Langfuse.Agents;

/// <summary>Names of the scores the agent helpers record, for Langfuse's score charts and filters.</summary>
public static class AgentScoreNames
{
    /// <summary>A <c>CATEGORICAL</c> score on a failed observation, valued <c>type/code</c>, for example <c>tool/timeout</c>.</summary>
    public const string Failure = "failure";

    /// <summary>A <c>NUMERIC</c> score (0 to 1) on a decision event: how sure the agent was.</summary>
    public const string DecisionConfidence = "decision_confidence";
}
