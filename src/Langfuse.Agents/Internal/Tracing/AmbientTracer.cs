namespace Langfuse.Agents.Internal.Tracing;

/// <summary>
/// The process-wide default tracer that <see cref="ObserveAttribute"/> and <see cref="LangfuseTracer.Default"/> use:
/// a host's tracer once it has started, otherwise one configured from the environment on first use. Kept apart from
/// the tracer so that the tracer holds no static state of its own.
/// </summary>
internal static class AmbientTracer
{
    private static readonly Lock Gate = new();
    private static LangfuseTracer? s_default;

    /// <summary>The default tracer, created from the environment on first use (flushed at process exit).</summary>
    public static LangfuseTracer Default
    {
        get
        {
            var current = Volatile.Read(ref s_default);
            if (current is not null)
            {
                return current;
            }

            lock (Gate)
            {
                if (s_default is null)
                {
                    var tracer = new LangfuseTracer(LangfuseOptions.FromEnvironment());
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => tracer.Core.Shutdown.WaitOnExit();
                    Volatile.Write(ref s_default, tracer);
                }

                return s_default;
            }
        }
    }

    /// <summary>
    /// Makes a host's tracer the default when none exists yet, so [Observe] and code using the default share the
    /// configured tracer instead of creating a second one from the environment. The host flushes it.
    /// </summary>
    public static bool TrySet(LangfuseTracer tracer)
    {
        lock (Gate)
        {
            if (s_default is not null)
            {
                return ReferenceEquals(s_default, tracer);
            }

            Volatile.Write(ref s_default, tracer);
            return true;
        }
    }

    /// <summary>Forgets a default set by <see cref="TrySet"/> when its host stops with it.</summary>
    public static void Clear(LangfuseTracer tracer)
    {
        lock (Gate)
        {
            if (ReferenceEquals(s_default, tracer))
            {
                Volatile.Write(ref s_default, null);
            }
        }
    }
}
