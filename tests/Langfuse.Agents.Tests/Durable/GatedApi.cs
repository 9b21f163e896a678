using Langfuse.Agents.Internal.Http;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>
/// An <see cref="ILangfuseApi"/> that holds chosen calls (counted from 1, health probes not counted) until the test
/// lets them go, and says when each one arrived: the test looks at the disk while a request is in flight.
/// </summary>
internal sealed class GatedApi(ILangfuseApi inner, params int[] held) : ILangfuseApi
{
    private readonly Dictionary<int, (TaskCompletionSource Arrived, TaskCompletionSource Release)> _gates =
        held.ToDictionary(n => n, _ => (NewSignal(), NewSignal()));

    private int _calls;

    /// <summary>Completes when call <paramref name="call"/> arrived (and is now held).</summary>
    public Task Arrived(int call) => _gates[call].Arrived.Task;

    /// <summary>Lets call <paramref name="call"/> go on to the server.</summary>
    public void Release(int call) => _gates[call].Release.TrySetResult();

    public async Task<ApiResponse> PostOtlpTracesAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken, string? contentType = null, string? contentEncoding = null)
    {
        await HoldAsync(cancellationToken);
        return await inner.PostOtlpTracesAsync(body, cancellationToken, contentType, contentEncoding);
    }

    public async Task<ApiResponse> PostIngestionAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken, string? contentEncoding = null)
    {
        await HoldAsync(cancellationToken);
        return await inner.PostIngestionAsync(json, cancellationToken, contentEncoding);
    }

    public Task<ApiResponse> GetHealthAsync(CancellationToken cancellationToken) => inner.GetHealthAsync(cancellationToken);

    private async Task HoldAsync(CancellationToken cancellationToken)
    {
        var call = Interlocked.Increment(ref _calls);
        if (_gates.TryGetValue(call, out var gate))
        {
            gate.Arrived.TrySetResult();
            await gate.Release.Task.WaitAsync(cancellationToken);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
