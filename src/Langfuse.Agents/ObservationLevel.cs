namespace Langfuse.Agents;

/// <summary>Severity of an observation; Langfuse filters and highlights by it.</summary>
public enum ObservationLevel : byte
{
    /// <summary>Not set: Langfuse shows <c>DEFAULT</c>.</summary>
    Default,

    /// <summary>Verbose detail, usually hidden.</summary>
    Debug,

    /// <summary>Something went wrong but the step recovered.</summary>
    Warning,

    /// <summary>The step failed.</summary>
    Error,
}
