using Langfuse.Agents.Internal.Pipeline;

namespace Langfuse.Agents.Internal.Tracing;

/// <summary>The last processor: offers the item to the export queue, which never blocks (a full queue drops and counts).</summary>
internal sealed class ExportProcessor(ExportPipeline pipeline) : LangfuseProcessor
{
    public override bool OnEnd(in CompletedObservation observation)
    {
        pipeline.TryEnqueue(new ExportItem(in observation), observation.Observation.EstimateBytes());
        return true;
    }

    public override bool OnScore(LangfuseScore score)
    {
        pipeline.TryEnqueue(new ExportItem(score), score.EstimatedBytes);
        return true;
    }
}
