namespace Langfuse.Agents.Relay.ProcessTests;

/// <summary>A fresh directory, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("langfuse-relay-test-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child still closing its files; the OS cleans temp.
        }
    }
}
