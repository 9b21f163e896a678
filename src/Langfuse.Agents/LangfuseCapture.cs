namespace Langfuse.Agents;

/// <summary>
/// Keeps every completed observation and every score of a tracer in memory, in the order they ended.
/// Meant for tests, including your own: set <see cref="LangfuseOptions.Capture"/> and assert on what your
/// agent traced. Works without keys and without a server; honours sampling.
/// </summary>
public sealed class LangfuseCapture
{
    private readonly Lock _gate = new();
    private readonly List<LangfuseObservation> _observations = [];
    private readonly List<LangfuseScore> _scores = [];

    /// <summary>The completed observations, in the order they ended.</summary>
    public IReadOnlyList<LangfuseObservation> Observations
    {
        get
        {
            lock (_gate)
            {
                return [.. _observations];
            }
        }
    }

    /// <summary>The recorded scores, in the order they were recorded.</summary>
    public IReadOnlyList<LangfuseScore> Scores
    {
        get
        {
            lock (_gate)
            {
                return [.. _scores];
            }
        }
    }

    /// <summary>The completed observations of one trace.</summary>
    /// <param name="traceId">The trace id (32 hex characters).</param>
    /// <returns>The observations of that trace, in the order they ended.</returns>
    public IReadOnlyList<LangfuseObservation> ForTrace(string traceId) =>
        [.. Observations.Where(o => string.Equals(o.TraceId, traceId, StringComparison.OrdinalIgnoreCase))];

    /// <summary>Forgets everything captured so far.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _observations.Clear();
            _scores.Clear();
        }
    }

    internal void Add(LangfuseObservation observation)
    {
        lock (_gate)
        {
            _observations.Add(observation);
        }
    }

    internal void Add(LangfuseScore score)
    {
        lock (_gate)
        {
            _scores.Add(score);
        }
    }
}
