namespace Langfuse.Agents;

/// <summary>
/// Traces every call of the method as an observation, like Langfuse's Python <c>@observe</c>: the observation is
/// current during the call (so calls inside it nest), records the arguments by parameter name as input and the
/// return value as output, and marks a thrown exception as an error before it propagates unchanged.
/// </summary>
/// <remarks>
/// A source generator shipped in the package rewrites the method's call sites (C# interceptors), so there is no
/// reflection and no set-up. It sees direct calls compiled in a project that references the package; calls through a
/// delegate, reflection or a framework are not seen (the build warns, <c>LFA001</c>): use the explicit API there.
/// Put it on methods declared in a type: on a local function or a lambda (in a top-level Program.cs, functions beside
/// the statements are local functions) it cannot work, and the build warns with <c>LFA003</c>.
/// Works on static, instance, private and generic methods returning <see langword="void"/>, a value,
/// <see cref="Task"/>, <see cref="ValueTask"/> or <see cref="IAsyncEnumerable{T}"/> (the observation stays open
/// while the stream is consumed). <c>LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED=false</c> turns capture off.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class ObserveAttribute : Attribute
{
    /// <summary>The observation's name. Default: the method's name.</summary>
    public string? Name { get; set; }

    /// <summary>The observation's type. Default: <see cref="ObservationType.Span"/>.</summary>
    public ObservationType AsType { get; set; } = ObservationType.Span;

    /// <summary>Whether the arguments are recorded as the input (by parameter name). Default true.</summary>
    public bool CaptureInput { get; set; } = true;

    /// <summary>Whether the return value is recorded as the output, unless the method set one itself. Default true.</summary>
    public bool CaptureOutput { get; set; } = true;
}
