namespace Langfuse.Agents.Internal.Tracing;

/// <summary>The first processor: observations of a trace sampled out go no further (scores are sampled when recorded).</summary>
internal sealed class SamplingProcessor : LangfuseProcessor
{
    public override bool OnEnd(in CompletedObservation observation) => observation.Observation.IsSampled;
}
