namespace Langfuse.Agents.Tests.EndToEnd;

/// <summary>Where the linked DurableChild finds the crash app: built beside this tool, in the same configuration.</summary>
internal static class ChildProcess
{
    public static string BuiltAssembly(string projectDirectory, string assemblyFile) =>
        Langfuse.Agents.Relay.ProcessTests.Built.Assembly(projectDirectory, assemblyFile);
}
