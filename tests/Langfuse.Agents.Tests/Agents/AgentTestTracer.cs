using Microsoft.Extensions.Logging.Abstractions;

namespace Langfuse.Agents.Tests.Agents;

/// <summary>A keyless tracer whose completed observations and scores land in <see cref="Capture"/>.</summary>
internal sealed class AgentTestTracer : IDisposable
{
    public AgentTestTracer(Action<LangfuseOptions>? configure = null)
    {
        var options = new LangfuseOptions { Capture = Capture };
        configure?.Invoke(options);
        Tracer = new LangfuseTracer(options, NullLoggerFactory.Instance);
    }

    public LangfuseCapture Capture { get; } = new();

    public LangfuseTracer Tracer { get; }

    public LangfuseObservation Single(string name) => Capture.Observations.Single(o => o.Name == name);

    public void Dispose() => Tracer.Dispose();
}
