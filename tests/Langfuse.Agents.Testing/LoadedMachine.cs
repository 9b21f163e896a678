namespace Langfuse.Agents.Testing;

/// <summary>
/// How long a test may wait in real time before it calls something a hang. Every real-time wait in the tests ends on a
/// signal (a recorded request, a log line, an idle probe, a process exit) long before this on a quiet machine; the
/// guard only decides when to give up. It is this long because the suite runs beside other builds on two cores: at a
/// load average of 30, the first forwarded request of a freshly started relay (JIT, sockets, Kestrel) was measured at
/// 12 s, so the 10 s guards this replaces failed healthy runs. A guard is never an assertion about speed: those
/// belong to bench/.
/// </summary>
public static class LoadedMachine
{
    /// <summary>The real-time limit for waits that end on a signal: two minutes.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);
}
