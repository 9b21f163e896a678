namespace Langfuse.Agents;

/// <summary>How <see cref="LangfuseRetryExtensions.RunWithRetriesAsync{T}"/> classifies, records and spaces failed attempts.</summary>
public sealed class AgentRetryOptions
{
    /// <summary>The failure type recorded on a failed attempt. Default <see cref="Agents.FailureType.Tool"/>.</summary>
    public FailureType FailureType { get; init; } = FailureType.Tool;

    /// <summary>The code recorded for an exception. Default <see cref="FailureCode.FromException"/>.</summary>
    public Func<Exception, FailureCode>? Classify { get; init; }

    /// <summary>Whether an exception is worth another attempt. Default: every exception (cancellation of the caller's token never is).</summary>
    public Func<Exception, bool>? ShouldRetry { get; init; }

    /// <summary>The wait after failed attempt <c>n</c> (from 1) before the next one. Default: no wait.</summary>
    public Func<int, TimeSpan>? Delay { get; init; }

    /// <summary>The clock the waits use. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Whether each failed attempt also gets the categorical <c>failure</c> score. Default true.</summary>
    public bool ScoreFailures { get; init; } = true;
}
