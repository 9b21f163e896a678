namespace Langfuse.Agents.Internal.Tracing;

/// <summary>Keeps what reaches it in a <see cref="LangfuseCapture"/> (tests), after the user's processors.</summary>
internal sealed class CaptureProcessor(LangfuseCapture capture) : LangfuseProcessor
{
    public override bool OnEnd(in CompletedObservation observation)
    {
        capture.Add(observation.Observation);
        return true;
    }

    public override bool OnScore(LangfuseScore score)
    {
        capture.Add(score);
        return true;
    }
}
