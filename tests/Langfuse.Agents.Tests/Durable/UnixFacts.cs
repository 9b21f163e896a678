using System.Diagnostics;
using System.Runtime.InteropServices;
using Xunit;

namespace Langfuse.Agents.Tests.Durable;

/// <summary>A fact that needs root (chown to another uid, mount): skipped, saying so, when the tests do not run as root.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Unix.IsRoot)
        {
            Skip = "needs root (chown to another uid, or mount); CI runs as root";
        }
    }
}

/// <summary>A fact about Unix file types and modes (FIFOs, symbolic links, chmod): skipped on Windows, saying so.</summary>
public sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "Unix file types and modes only";
        }
    }
}

/// <summary>Hostile layouts made for real: FIFOs, ownership by another uid, the uid of nobody.</summary>
internal static class Unix
{
    /// <summary>The uid of <c>nobody</c> on Debian: an owner that is certainly not the test's.</summary>
    public const int Nobody = 65534;

    public static bool IsRoot => !OperatingSystem.IsWindows() && geteuid() == 0;

    public static uint EffectiveUserId => geteuid();

    /// <summary>mkfifo(path, 0600).</summary>
    public static void MakeFifo(string path)
    {
        if (mkfifo(path, 0x180) != 0)
        {
            throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>chown(path, uid, uid), without following a symbolic link.</summary>
    public static void ChangeOwner(string path, int uid)
    {
        if (lchown(path, uid, uid) != 0)
        {
            throw new IOException($"lchown {path} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Runs a command to completion; its exit code and output.</summary>
    public static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }

#pragma warning disable SYSLIB1054, CA5392, CA2101 // DllImport: LibraryImport would need unsafe code in this project.
    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);

    [DllImport("libc")]
    private static extern uint geteuid();
#pragma warning restore SYSLIB1054, CA5392, CA2101
}
