namespace Langfuse.Agents.Internal.Durable;

/// <summary>What a path is, seen without following a symbolic link.</summary>
internal enum DurableFileKind
{
    /// <summary>Nothing there.</summary>
    Missing,

    /// <summary>A regular file: the only kind the queue reads.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A symbolic link: never followed.</summary>
    SymbolicLink,

    /// <summary>A FIFO, socket or device: never opened for reading.</summary>
    Other,
}
