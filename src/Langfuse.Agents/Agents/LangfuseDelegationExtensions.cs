namespace Langfuse.Agents;

/// <summary>
/// Records one agent handing work to another: an <c>agent</c> observation named after the callee, a child of the
/// caller, with metadata <c>delegation.caller</c> and <c>delegation.callee</c>. Langfuse shows it in the caller's
/// tree under the callee's name; the metadata finds every hand-over between two agents.
/// </summary>
public static class LangfuseDelegationExtensions
{
    /// <summary>
    /// Starts the delegation from <paramref name="caller"/> to the agent <paramref name="callee"/>: an
    /// <see cref="ObservationType.Agent"/> observation named <paramref name="callee"/>, child of the caller, with
    /// metadata <c>delegation.caller</c> (the caller's name) and <c>delegation.callee</c>. It becomes the current
    /// observation, so the callee's own steps (and, over HTTP, the remote agent's trace) nest under it. Dispose it
    /// when the callee is done; if the callee fails, record it with
    /// <see cref="LangfuseFailureExtensions.RecordFailure(LangfuseObservation, FailureType, FailureCode, string?, Exception?, bool)"/>
    /// (typically <see cref="FailureType.Orchestration"/>).
    /// </summary>
    /// <param name="caller">The agent handing work over.</param>
    /// <param name="callee">The name of the agent receiving it.</param>
    /// <param name="input">The task handed over.</param>
    /// <returns>The delegation observation.</returns>
    public static LangfuseObservation StartDelegation(this LangfuseObservation caller, string callee, object? input = null)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return Start(caller.Tracer, caller, caller.Name, callee, input);
    }

    /// <summary>
    /// Starts a delegation from the current observation (see the other overload) to the agent <paramref name="callee"/>.
    /// </summary>
    /// <param name="tracer">The tracer.</param>
    /// <param name="callee">The name of the agent receiving the work.</param>
    /// <param name="input">The task handed over.</param>
    /// <param name="caller">The caller's name; defaults to the current observation's name.</param>
    /// <returns>The delegation observation.</returns>
    public static LangfuseObservation StartDelegation(this LangfuseTracer tracer, string callee, object? input = null, string? caller = null)
    {
        ArgumentNullException.ThrowIfNull(tracer);
        var parent = LangfuseTracer.CurrentObservation;
        return Start(tracer, parent, caller ?? parent?.Name, callee, input);
    }

    private static LangfuseObservation Start(LangfuseTracer tracer, LangfuseObservation? parent, string? caller, string callee, object? input)
    {
        var observation = tracer.StartObservation(callee, ObservationType.Agent, parent, input);
        if (!string.IsNullOrEmpty(caller))
        {
            observation.SetMetadata(AgentMetadataKeys.DelegationCaller, caller);
        }

        return observation.SetMetadata(AgentMetadataKeys.DelegationCallee, observation.Name);
    }
}
