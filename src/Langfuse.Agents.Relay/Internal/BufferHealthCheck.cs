using Langfuse.Agents.Internal.Durable;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Langfuse.Agents.Relay.Internal;

/// <summary>
/// Readiness (<c>/relay/ready</c>): whether the relay can take a request now. Not ready while the buffer is unusable
/// or over its cap, or for <see cref="RelayOptions.RetryAfter"/> after the buffer refused a group commit (at the cap,
/// or the disk failed), the same time a refused client is told to wait; then it is ready again, since only a new
/// write can tell (a balancer that stops sending must not keep the relay out of rotation for ever). Liveness is
/// <c>/api/public/health</c>, which stays 200 as Langfuse's does.
/// </summary>
internal sealed class BufferHealthCheck(RelayCore core, TimeProvider time) : IHealthCheck
{
    private const string AtCap = "the buffer is at its cap; forwarding frees space";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!core.Queue.IsAvailable)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the buffer directory is not usable"));
        }

        var bytes = core.Queue.Stats.Bytes;
        if (bytes >= core.Options.BufferMaxBytes)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(AtCap));
        }

        var writer = core.Writer;
        if (writer.LastFailure is { } failed && failed > (writer.LastSuccess ?? DateTimeOffset.MinValue) &&
            time.GetUtcNow() - failed < core.Options.RetryAfter)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(writer.LastFailureOutcome == AppendOutcome.Full
                ? AtCap
                : "the disk refused the last write"));
        }

        return Task.FromResult(HealthCheckResult.Healthy());
    }
}
