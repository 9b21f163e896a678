namespace Langfuse.Agents;

/// <summary>
/// The observation metadata keys the agent helpers write. Each is a top-level key of the observation's metadata
/// (the dot is part of the name, not nesting), so Langfuse's metadata filter finds it as written, for example
/// <c>failure.code = timeout</c>. Privacy mode keeps these keys (see <see cref="LangfuseOptions.PrivacyMode"/>), so
/// their values are codes and names, never user text.
/// </summary>
public static class AgentMetadataKeys
{
    /// <summary>The failed part: <c>tool</c>, <c>model</c>, <c>retrieval</c> or <c>orchestration</c>.</summary>
    public const string FailureType = "failure.type";

    /// <summary>What went wrong, for example <c>timeout</c> (see <see cref="global::Langfuse.Agents.FailureCode"/>).</summary>
    public const string FailureCode = "failure.code";

    /// <summary>The name of the agent that handed work over.</summary>
    public const string DelegationCaller = "delegation.caller";

    /// <summary>The name of the agent that received it.</summary>
    public const string DelegationCallee = "delegation.callee";

    /// <summary>The attempt number of a retried step, from 1.</summary>
    public const string Attempt = "attempt";

    /// <summary>Why this attempt happened: the previous attempt's failure code, or a reason code of your own.</summary>
    public const string RetryReason = "retry.reason";

    /// <summary>The option a decision chose (one of its candidates).</summary>
    public const string DecisionChosen = "decision.chosen";

    /// <summary>The reason code of a decision, for example <c>needs_fresh_data</c>.</summary>
    public const string DecisionReason = "decision.reason";

    /// <summary>The decision's confidence, 0 to 1.</summary>
    public const string DecisionConfidence = "decision.confidence";

    /// <summary>Every key above: what privacy mode keeps whatever its value.</summary>
    internal static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        FailureType, FailureCode, DelegationCaller, DelegationCallee, Attempt, RetryReason, DecisionChosen, DecisionReason, DecisionConfidence,
    };
}
