using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// Deletes what crashed writers left: <c>&lt;segment&gt;.&lt;pid&gt;.tmp</c> files whose writer process is gone, or
/// that are older than the stale age. Only regular files owned by this user are touched; anything else is left where
/// it is (on a shared root, another user's files are not this process's to delete).
/// </summary>
internal static class StaleTemporaries
{
    public static void Delete(IDurableFileSystem files, string directory, DateTimeOffset now, TimeSpan staleAge, ILogger logger)
    {
        foreach (var path in files.GetFiles(directory))
        {
            var name = Path.GetFileName(path);
            if (!name.EndsWith(SegmentNames.TemporaryExtension, StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                var status = files.GetStatus(path);
                if (status.Kind != DurableFileKind.Regular || BufferDirectoryGuard.OwnerProblem(status) is not null)
                {
                    continue;
                }

                var writerGone = SegmentNames.TryGetTemporaryWriter(name, out var writer) &&
                    writer != Environment.ProcessId &&
                    !IsProcessRunning(writer);
                if (writerGone || now - files.GetLastWriteTime(path) > staleAge)
                {
                    files.Delete(path);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                DurableLog.FileFailed(logger, "delete", path, e.Message);
            }
        }
    }

    private static bool IsProcessRunning(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
#pragma warning disable CA1031 // Anything else: assume it runs, and leave its file to the age rule.
        catch (Exception)
#pragma warning restore CA1031
        {
            return true;
        }
    }
}
