using System.Text;
using Langfuse.Agents.Internal;

namespace Langfuse.Agents.Observe;

/// <summary>
/// A stream returned by an <see cref="ObserveAttribute"/> method: its first enumeration runs inside the observation
/// (current in each step, so calls made while producing items nest) and ends it; later enumerations pass through.
/// </summary>
internal sealed class ObservedAsyncEnumerable<T>(LangfuseObservation observation, IAsyncEnumerable<T> inner, bool captureOutput)
    : IAsyncEnumerable<T>
{
    /// <summary>Most items kept as the output of a stream of non-strings.</summary>
    internal const int MaxItems = 1000;

    /// <summary>Most characters kept as the output of a stream of strings.</summary>
    internal const int MaxChars = 100_000;

    private int _enumerated;

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
        {
            return inner.GetAsyncEnumerator(cancellationToken);
        }

        var previous = Enter(observation);
        try
        {
            return new Enumerator(observation, inner.GetAsyncEnumerator(cancellationToken), captureOutput);
        }
        catch (Exception exception)
        {
            ObserveRuntime.Fail(observation, exception);
            throw;
        }
        finally
        {
            ObservationContext.Current = previous;
        }
    }

    private static LangfuseObservation? Enter(LangfuseObservation observation)
    {
        var previous = ObservationContext.Current;
        ObservationContext.Current = observation;
        return previous;
    }

    private sealed class Enumerator(LangfuseObservation observation, IAsyncEnumerator<T> inner, bool captureOutput) : IAsyncEnumerator<T>
    {
        private StringBuilder? _text;
        private List<object?>? _items;

        public T Current => inner.Current;

        public ValueTask<bool> MoveNextAsync()
        {
            if (observation.IsEnded)
            {
                return inner.MoveNextAsync();
            }

            ValueTask<bool> next;
            var previous = Enter(observation);
            try
            {
                next = inner.MoveNextAsync();
            }
            catch (Exception exception)
            {
                ObserveRuntime.Fail(observation, exception);
                throw;
            }
            finally
            {
                ObservationContext.Current = previous;
            }

            if (next.IsCompletedSuccessfully)
            {
                var hasItem = next.Result;
                OnMoved(hasItem);
                return new ValueTask<bool>(hasItem);
            }

            return AwaitAsync(next);
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await inner.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                ObserveRuntime.Fail(observation, exception);
                throw;
            }
            finally
            {
                // Disposed before the end (a break, a cancelled consumer): what was streamed so far is the output.
                Finish();
            }
        }

        private async ValueTask<bool> AwaitAsync(ValueTask<bool> next)
        {
            bool hasItem;
            try
            {
                hasItem = await next.ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                ObserveRuntime.Fail(observation, exception);
                throw;
            }

            OnMoved(hasItem);
            return hasItem;
        }

        private void OnMoved(bool hasItem)
        {
            if (!hasItem)
            {
                Finish();
                return;
            }

            if (!captureOutput)
            {
                return;
            }

            try
            {
                var item = inner.Current;
                if (typeof(T) == typeof(string))
                {
                    _text ??= new StringBuilder();
                    if (_text.Length < MaxChars)
                    {
                        var text = (string?)(object?)item;
                        _text.Append(text, 0, Math.Min(text?.Length ?? 0, MaxChars - _text.Length));
                    }
                }
                else
                {
                    _items ??= [];
                    if (_items.Count < MaxItems)
                    {
                        _items.Add(item);
                    }
                }
            }
            catch (Exception)
            {
                // Capture is best effort; the stream goes on.
            }
        }

        private void Finish()
        {
            if (observation.IsEnded)
            {
                return;
            }

            if (captureOutput)
            {
                object? output = typeof(T) == typeof(string) ? (_text?.ToString() ?? string.Empty) : (object?)_items ?? Array.Empty<object?>();
                ObserveRuntime.Complete(observation, output);
            }
            else
            {
                ObserveRuntime.End(observation);
            }
        }
    }
}
