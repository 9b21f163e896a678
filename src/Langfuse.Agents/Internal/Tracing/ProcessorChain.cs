using Langfuse.Agents.Internal.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Tracing;

/// <summary>
/// The processors an ended observation or a score passes through, in order: sampling, the user's, capture, export.
/// A processor that returns false stops the item (counted as sampled out while the tracer exports); one that throws is
/// logged once and skipped, so a faulty extension never costs the item or reaches the caller.
/// </summary>
internal sealed partial class ProcessorChain
{
    private readonly LangfuseProcessor[] _processors;
    private readonly LangfuseMetrics _metrics;
    private readonly bool _countDrops;
    private readonly ILogger _logger;
    private readonly int[] _failed;

    public ProcessorChain(IEnumerable<LangfuseProcessor> processors, LangfuseMetrics metrics, bool countDrops, ILogger logger)
    {
        _processors = [.. processors];
        _metrics = metrics;
        _countDrops = countDrops;
        _logger = logger;
        _failed = new int[_processors.Length];
    }

    public void OnEnd(in CompletedObservation observation)
    {
        var processors = _processors;
        for (var i = 0; i < processors.Length; i++)
        {
            bool pass;
            try
            {
                pass = processors[i].OnEnd(in observation);
            }
            catch (Exception ex)
            {
                Failed(i, ex);
                continue;
            }

            if (!pass)
            {
                Dropped();
                return;
            }
        }
    }

    public void OnScore(LangfuseScore score)
    {
        var processors = _processors;
        for (var i = 0; i < processors.Length; i++)
        {
            bool pass;
            try
            {
                pass = processors[i].OnScore(score);
            }
            catch (Exception ex)
            {
                Failed(i, ex);
                continue;
            }

            if (!pass)
            {
                Dropped();
                return;
            }
        }
    }

    private void Dropped()
    {
        if (_countDrops)
        {
            _metrics.Dropped(DropReason.SampledOut);
        }
    }

    private void Failed(int index, Exception exception)
    {
        // Once per processor: a processor that fails for every item would otherwise flood the application's log.
        if (Interlocked.Exchange(ref _failed[index], 1) == 0)
        {
            ProcessorFailed(_logger, _processors[index].GetType().Name, exception);
        }
    }

    [LoggerMessage(60, LogLevel.Warning, "The Langfuse processor {Processor} threw; it is skipped for this item and later failures are not logged. Items go on to the next processor.")]
    private static partial void ProcessorFailed(ILogger logger, string processor, Exception exception);
}
