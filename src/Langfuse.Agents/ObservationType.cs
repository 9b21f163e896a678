namespace Langfuse.Agents;

/// <summary>The kinds of observation Langfuse knows; each renders with its own icon and filters in Langfuse.</summary>
public enum ObservationType : byte
{
    /// <summary>A unit of work with a duration (the default).</summary>
    Span,

    /// <summary>A call to a language model: model, parameters, token usage, cost, time to first token.</summary>
    Generation,

    /// <summary>A point in time with no duration (a decision, a routing choice, a log-like fact).</summary>
    Event,

    /// <summary>An agent: something that decides which tools or agents to call.</summary>
    Agent,

    /// <summary>A tool call made by an agent (web search, code execution, an API).</summary>
    Tool,

    /// <summary>A fixed sequence of steps (a pipeline, a chain of prompts).</summary>
    Chain,

    /// <summary>A lookup in a vector store, search index or database.</summary>
    Retriever,

    /// <summary>A call to an embedding model (model and usage like a generation).</summary>
    Embedding,

    /// <summary>An evaluation of another step's output (LLM-as-judge, a check).</summary>
    Evaluator,

    /// <summary>A safety or policy check (jailbreak, PII, moderation).</summary>
    Guardrail,
}
