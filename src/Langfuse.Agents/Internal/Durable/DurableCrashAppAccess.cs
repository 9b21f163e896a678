using System.Runtime.CompilerServices;

// The crash test's child process drives the real DurableQueue (append, then SIGKILL; or hold the replay lock).
[assembly: InternalsVisibleTo("Langfuse.Agents.DurableCrashApp")]
