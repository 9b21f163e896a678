namespace Langfuse.Agents;

/// <summary>
/// Which part of an agent failed. Recorded by <see cref="LangfuseFailureExtensions.RecordFailure(LangfuseObservation, FailureType, FailureCode, string?, Exception?, bool)"/>
/// as metadata <c>failure.type</c> (<c>tool</c>, <c>model</c>, <c>retrieval</c>, <c>orchestration</c>) and as the first
/// half of the status message, for example <c>tool/timeout: search took 30 s</c>.
/// </summary>
public enum FailureType
{
    /// <summary>A tool call failed: an API, a function, a code interpreter (<c>tool</c>).</summary>
    Tool,

    /// <summary>A model call failed, or the model's answer was unusable (<c>model</c>).</summary>
    Model,

    /// <summary>Retrieval failed: a vector store, a search index, a document fetch (<c>retrieval</c>).</summary>
    Retrieval,

    /// <summary>The agent machinery failed: planning, routing, delegation to another agent, a budget (<c>orchestration</c>).</summary>
    Orchestration,
}
