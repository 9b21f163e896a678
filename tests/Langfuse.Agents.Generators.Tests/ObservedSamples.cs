using System.Runtime.CompilerServices;

namespace Langfuse.Agents.Generators.Tests;

/// <summary>Methods with [Observe], compiled by the real generator in this test project's own build.</summary>
// Instance members on purpose: [Observe] on instance methods is what they test.
#pragma warning disable CA1822
internal sealed class ObservedSamples
{
    [Observe(AsType = ObservationType.Agent)]
    public static string Answer(string question, CancellationToken cancellationToken)
    {
        var words = new ObservedSamples().Split(question);
        return string.Join("+", words.Select(w => Upper(w)));
    }

    [Observe]
    public string[] Split(string text) => text.Split(' ');

    [Observe]
    private static string Upper(string word) => word.ToUpperInvariant();

    [Observe(AsType = ObservationType.Tool)]
    public async Task<int> LengthAsync(string text)
    {
        await Task.Yield();
        return Twice(text.Length);
    }

    [Observe]
    public static int Twice(int value) => value * 2;

    [Observe]
    public static async Task FailAsync(string reason)
    {
        await Task.Yield();
        throw new InvalidOperationException(reason);
    }

    [Observe]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(string reason) => throw new InvalidOperationException(reason);

    [Observe]
    public static async ValueTask<string> WaitAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return "never";
    }

    [Observe]
    public static string SetsOwnOutput(string text)
    {
        LangfuseTracer.CurrentObservation!.Output = "set by hand";
        return text;
    }

    [Observe(AsType = ObservationType.Generation)]
    public static async IAsyncEnumerable<string> StreamAsync(string prompt)
    {
        foreach (var word in prompt.Split(' '))
        {
            await Task.Yield();
            yield return Upper(word) + " ";
        }
    }

    [Observe]
    public static async IAsyncEnumerable<int> NumbersAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return i;
        }
    }

    [Observe]
    private static T Identity<T>(T value) where T : notnull => value;

    public static int CallPrivateGeneric(int value) => Identity(value);

    [Observe]
    public static ValueTask DoneAsync() => ValueTask.CompletedTask;
}

internal static class StaticSamples
{
    [Observe]
    private static string Hidden(string text) => text + "!";

    public static string CallHidden(string text) => Hidden(text);
}
