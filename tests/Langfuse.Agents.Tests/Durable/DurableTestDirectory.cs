namespace Langfuse.Agents.Tests.Durable;

/// <summary>A fresh path under the temp directory (not created: the queue creates it), deleted with everything in it.</summary>
internal sealed class DurableTestDirectory : IDisposable
{
    public DurableTestDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "langfuse-durable-tests", Guid.NewGuid().ToString("N"));
    }

    public string Path { get; }

    public string[] Files(string pattern = "*") =>
        Directory.Exists(Path) ? [.. Directory.GetFiles(Path, pattern).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal)!] : [];

    public string[] Segments() => Files("*.lfq");

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
