using Langfuse.Agents;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Creates the tracer when the host starts (so configuration problems show at once), makes it the process-wide
/// default that [Observe] uses when there is none yet, and flushes it when the host stops.
/// </summary>
internal sealed class LangfuseHostedService(LangfuseTracer tracer) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LangfuseTracer.TrySetDefault(tracer);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            // Bounded by the tracer's shutdown budget and by the host's own stop token, whichever ends first.
            await tracer.ShutdownAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            LangfuseTracer.ClearDefault(tracer);
        }
    }
}
