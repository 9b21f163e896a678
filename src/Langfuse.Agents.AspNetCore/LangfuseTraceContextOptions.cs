namespace Langfuse.Agents.AspNetCore;

/// <summary>How <c>app.UseLangfuseTraceContext()</c> reads the caller's trace context.</summary>
public sealed class LangfuseTraceContextOptions
{
    /// <summary>
    /// Take the trace's attributes from the W3C <c>baggage</c> header (<c>langfuse_session_id</c>, <c>langfuse_user_id</c>,
    /// <c>langfuse_trace_name</c>, <c>langfuse_tags</c>, <c>langfuse_version</c>, <c>langfuse_release</c>,
    /// <c>langfuse_environment</c>, <c>langfuse_metadata_{key}</c>) and put them on the trace's observations in this
    /// service, over its own defaults. Default: <see langword="true"/> (a caller sends them only when it opted in with
    /// <see cref="LangfusePropagationHandler.IncludeBaggage"/>).
    /// </summary>
    public bool ReadBaggage { get; set; } = true;
}
