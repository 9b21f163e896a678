using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// The durable queue: one directory of segment files, each written by one <see cref="Append"/>.
/// <list type="bullet">
/// <item>Names: <c>{utcTicks:D19}-{processId:D10}-{counter:D10}.lfq</c>, so ordinal name order is creation order
/// (ticks strictly increase within a queue; the process-wide counter keeps names unique). The format is in
/// <see cref="DurableFormat"/>.</item>
/// <item>Writes are atomic per segment: <c>&lt;name&gt;.&lt;pid&gt;.tmp</c>, fsync, rename, fsync of the directory
/// (see <see cref="DurableQueueOptions.FsyncBeforeRename"/>). A crash leaves either the whole segment or a temporary
/// file, which the next open deletes when its writer is gone or it is older than
/// <see cref="DurableQueueOptions.StaleTemporaryAge"/>.</item>
/// <item>Replay: only the process holding an exclusive lock on <c>replay.lock</c> in the directory takes segments
/// (flock on Unix, released when the process dies); the others keep appending and try the lock again on every
/// <see cref="TryTakeOldest"/>. Every take also rescans the directory (names, plus a 40-byte header for new files), so
/// the holder sees other processes' segments and every process's <see cref="Stats"/> follow the holder's deletions.</item>
/// <item>Bounds: <see cref="DurableQueueOptions.MaxBytes"/> with <see cref="DurableQueueOptions.FullPolicy"/>, and
/// <see cref="DurableQueueOptions.Retention"/>. The cap is enforced against the segments this process knows of
/// (its own, plus every segment seen by its last rescan). With <see cref="DurableFullPolicy.DropOldest"/> the new
/// segment is written first and older ones are deleted afterwards, so the cap can be exceeded by one segment while
/// it is written, and nothing is dropped for an append that then fails.</item>
/// <item>Accounting: the callback given at construction receives what the queue removes from disk
/// (<see cref="DropReason.BufferFull"/>, <see cref="DropReason.Expired"/>, <see cref="DropReason.Corrupt"/>) with item
/// counts. What an append refuses (<see cref="AppendOutcome.Full"/>, <see cref="AppendOutcome.WriteFailed"/>,
/// <see cref="AppendOutcome.Unavailable"/>) the caller still holds, and counts.</item>
/// </list>
/// No member throws (other than the constructor for a null argument); members are thread-safe and serialised by one
/// lock, which an append holds through its fsync.
/// </summary>
internal sealed class DurableQueue : IDurableQueue
{
    public const string SegmentExtension = ".lfq";
    public const string TemporaryExtension = ".tmp";
    public const string LockFileName = "replay.lock";

    private const UnixFileMode PrivateDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private static long s_counter;

    private readonly DurableQueueOptions _options;
    private readonly string _directory;
    private readonly Action<DropReason, long>? _onDrop;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IDurableFileSystem _files;
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, SegmentInfo> _segments = new(StringComparer.Ordinal);
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
    private readonly HashSet<string> _corruptionCounted = new(StringComparer.Ordinal);
    private IDisposable? _replayLock;
    private long _records;
    private long _items;
    private long _bytes;
    private long _lastTicks;
    private bool _writeFailing;
    private bool _fullLogged;
    private bool _disposed;
    private volatile bool _available;

    /// <summary>Opens (creating if needed) the queue's directory. Never throws for file-system problems: see <see cref="IsAvailable"/>.</summary>
    /// <param name="options">Where and how to store.</param>
    /// <param name="onDrop">Receives items removed from disk, by reason; called outside the queue's lock.</param>
    /// <param name="logger">Where problems are reported; paths only, never payloads or keys.</param>
    /// <param name="timeProvider">The clock for record ages and segment names; the system clock by default.</param>
    /// <param name="fileSystem">The file operations; the real file system by default (tests inject faults).</param>
    public DurableQueue(
        DurableQueueOptions options,
        Action<DropReason, long>? onDrop = null,
        ILogger? logger = null,
        TimeProvider? timeProvider = null,
        IDurableFileSystem? fileSystem = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _onDrop = onDrop;
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _files = fileSystem ?? DurableFileSystem.Instance;
        _directory = options.Directory ?? string.Empty;
        try
        {
            _directory = Path.GetFullPath(_directory);
        }
        catch (Exception e) when (IsFileSystemFailure(e))
        {
            DurableLog.Unusable(_logger, _directory, e.Message);
            return;
        }

        _available = OpenDirectory();
    }

    /// <inheritdoc />
    public bool IsAvailable => _available;

    /// <summary>Opens a queue; never throws for file-system problems (see <see cref="IsAvailable"/>).</summary>
    public static DurableQueue Open(
        DurableQueueOptions options,
        TimeProvider timeProvider,
        ILogger logger,
        Action<DropReason, long>? onDrop,
        IDurableFileSystem? fileSystem = null) =>
        new(options, onDrop, logger, timeProvider, fileSystem);

    /// <summary>The directory, as a full path.</summary>
    public string Directory => _directory;

    /// <summary>Whether this process holds the replay lock (it took a segment, or tried to, and no one else had it).</summary>
    public bool HoldsReplayLock
    {
        get
        {
            lock (_gate)
            {
                return _replayLock is not null;
            }
        }
    }

    /// <inheritdoc />
    public long BufferedItems => Volatile.Read(ref _items); // 64-bit writes are atomic; no lock, so no wait on an fsync

    /// <inheritdoc />
    public DurableQueueStats Stats
    {
        get
        {
            lock (_gate)
            {
                long? oldest = null;
                foreach (var info in _segments.Values)
                {
                    if (info.Records > 0 && (oldest is null || info.OldestTicks < oldest))
                    {
                        oldest = info.OldestTicks;
                    }
                }

                return new DurableQueueStats(
                    _segments.Count,
                    _records,
                    _items,
                    _bytes,
                    oldest is { } ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null);
            }
        }
    }

    /// <inheritdoc />
    public AppendOutcome Append(IReadOnlyList<DurableRecord> records)
    {
        if (records is null || records.Count == 0)
        {
            return AppendOutcome.Stored;
        }

        if (!_available)
        {
            return AppendOutcome.Unavailable;
        }

        var drops = new List<(DropReason Reason, long Items)>();
        try
        {
            byte[] data;
            try
            {
                data = DurableFormat.EncodeSegment(records);
            }
            catch (InvalidOperationException)
            {
                return AppendOutcome.Full; // larger than any cap
            }

            lock (_gate)
            {
                if (_disposed)
                {
                    return AppendOutcome.Unavailable;
                }

                ExpireLocked(drops);
                return AppendLocked(data, drops);
            }
        }
#pragma warning disable CA1031 // Telemetry never throws into the application.
        catch (Exception e)
#pragma warning restore CA1031
        {
            DurableLog.WriteFailed(_logger, _directory, e.Message);
            return AppendOutcome.WriteFailed;
        }
        finally
        {
            Report(drops);
        }
    }

    /// <inheritdoc />
    public bool TryTakeOldest(out DurableSegment? segment)
    {
        segment = null;
        if (!_available)
        {
            return false;
        }

        var drops = new List<(DropReason Reason, long Items)>();
        try
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return false;
                }

                RefreshLocked();
                ExpireLocked(drops);
                if (_replayLock is null)
                {
                    _replayLock = _files.TryLockExclusive(Path.Combine(_directory, LockFileName));
                    if (_replayLock is null)
                    {
                        return false;
                    }

                    DurableLog.LockTaken(_logger, _directory);
                }

                foreach (var name in _segments.Keys.ToArray())
                {
                    if (!_taken.Contains(name) && ReadLocked(name, drops) is { } taken)
                    {
                        _taken.Add(name);
                        segment = taken;
                        return true;
                    }
                }

                return false;
            }
        }
#pragma warning disable CA1031 // Telemetry never throws into the application.
        catch (Exception e)
#pragma warning restore CA1031
        {
            DurableLog.FileFailed(_logger, "replay from", _directory, e.Message);
            segment = null;
            return false;
        }
        finally
        {
            Report(drops);
        }
    }

    /// <summary>
    /// Takes many segments with one look at the directory (one rescan and one expiry pass for the whole batch, where
    /// <see cref="TryTakeOldest"/> does both per segment): the forwarder takes a round's worth of segments at once.
    /// </summary>
    public IReadOnlyList<DurableSegment> TakeOldest(int maxSegments, long maxBytes)
    {
        var taken = new List<DurableSegment>();
        if (!_available || maxSegments <= 0)
        {
            return taken;
        }

        var drops = new List<(DropReason Reason, long Items)>();
        try
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return taken;
                }

                RefreshLocked();
                ExpireLocked(drops);
                if (_replayLock is null)
                {
                    _replayLock = _files.TryLockExclusive(Path.Combine(_directory, LockFileName));
                    if (_replayLock is null)
                    {
                        return taken;
                    }

                    DurableLog.LockTaken(_logger, _directory);
                }

                long bytes = 0;
                foreach (var name in _segments.Keys.ToArray())
                {
                    if (taken.Count >= maxSegments || bytes >= maxBytes)
                    {
                        break;
                    }

                    if (!_taken.Contains(name) && ReadLocked(name, drops) is { } segment)
                    {
                        _taken.Add(name);
                        taken.Add(segment);
                        foreach (var record in segment.Records)
                        {
                            bytes += record.Payload.Length;
                        }
                    }
                }

                return taken;
            }
        }
#pragma warning disable CA1031 // Telemetry never throws into the application.
        catch (Exception e)
#pragma warning restore CA1031
        {
            DurableLog.FileFailed(_logger, "replay from", _directory, e.Message);
            return taken;
        }
        finally
        {
            Report(drops);
        }
    }

    /// <inheritdoc />
    public void Complete(DurableSegment segment)
    {
        if (segment is null)
        {
            return;
        }

        try
        {
            lock (_gate)
            {
                var name = Path.GetFileName(segment.Path);
                if (_taken.Remove(name))
                {
                    DeleteSegmentLocked(name);
                }
            }
        }
#pragma warning disable CA1031 // Telemetry never throws into the application.
        catch (Exception e)
#pragma warning restore CA1031
        {
            DurableLog.FileFailed(_logger, "delete", segment.Path, e.Message);
        }
    }

    /// <inheritdoc />
    public void Release(DurableSegment segment)
    {
        if (segment is null)
        {
            return;
        }

        lock (_gate)
        {
            _taken.Remove(Path.GetFileName(segment.Path));
        }
    }

    /// <summary>
    /// Rewrites a taken segment with only <paramref name="remaining"/> (atomically: temporary file, fsync, rename over
    /// the same name, so it stays oldest) and puts it back, as <see cref="Release"/> does. No records left completes it.
    /// If the rewrite fails the segment is kept whole: its records are all sent again and Langfuse deduplicates them.
    /// </summary>
    public void Replace(DurableSegment segment, IReadOnlyList<DurableRecord> remaining)
    {
        if (segment is null)
        {
            return;
        }

        if (remaining is null || remaining.Count == 0)
        {
            Complete(segment);
            return;
        }

        try
        {
            var data = DurableFormat.EncodeSegment(remaining);
            lock (_gate)
            {
                var name = Path.GetFileName(segment.Path);
                if (!_taken.Remove(name) || !_segments.ContainsKey(name))
                {
                    return;
                }

                if (TryWriteSegmentLocked(Path.Combine(_directory, name), data))
                {
                    UpdateLocked(name, data);
                }
            }
        }
#pragma warning disable CA1031 // Telemetry never throws into the application.
        catch (Exception e)
#pragma warning restore CA1031
        {
            DurableLog.FileFailed(_logger, "rewrite", segment.Path, e.Message);
        }
    }

    /// <summary>Releases the replay lock; later calls find the queue unavailable.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _available = false;
            _replayLock?.Dispose();
            _replayLock = null;
        }
    }

    /// <summary>True for a name this queue writes (<c>{19 digits}-{digits}-{digits}.lfq</c>); anything else in the directory is left alone.</summary>
    internal static bool IsSegmentName(string name)
    {
        if (!name.EndsWith(SegmentExtension, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = name[..^SegmentExtension.Length].Split('-');
        return parts.Length == 3 && parts[0].Length == 19 && parts.All(static p => p.Length > 0 && p.All(char.IsAsciiDigit));
    }

    private static bool IsFileSystemFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException;

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

    private bool OpenDirectory()
    {
        var drops = new List<(DropReason Reason, long Items)>();
        try
        {
            _files.CreateDirectory(_directory);
            if (!MakePrivate())
            {
                return false;
            }

            lock (_gate)
            {
                DeleteStaleTemporariesLocked();
                RefreshLocked();
                ExpireLocked(drops);
            }

            return true;
        }
#pragma warning disable CA1031 // Telemetry never throws into the application.
        catch (Exception e)
#pragma warning restore CA1031
        {
            DurableLog.Unusable(_logger, _directory, e.Message);
            return false;
        }
        finally
        {
            Report(drops);
        }
    }

    /// <summary>
    /// Makes the directory 0700. The chmod is done even when the mode already looks private: it fails for a
    /// directory owned by someone else, which must not be used either.
    /// </summary>
    private bool MakePrivate()
    {
        var mode = _files.GetUnixFileMode(_directory);
        if (mode is null)
        {
            return true; // Windows: the directory inherits the ACL of its parent (the user's profile by default).
        }

        try
        {
            _files.SetUnixFileMode(_directory, PrivateDirectoryMode);
            var now = _files.GetUnixFileMode(_directory);
            if (now is { } after && (after & GroupOrOther) != 0)
            {
                DurableLog.NotPrivate(_logger, _directory, FormatMode(after), "the file system ignored chmod");
                return false;
            }

            return true;
        }
        catch (Exception e) when (IsFileSystemFailure(e))
        {
            DurableLog.NotPrivate(_logger, _directory, FormatMode(mode.Value), e.Message);
            return false;
        }
    }

    private static string FormatMode(UnixFileMode mode) => Convert.ToString((int)mode, 8);

    private AppendOutcome AppendLocked(byte[] data, List<(DropReason Reason, long Items)> drops)
    {
        var rejectNewest = _options.FullPolicy == DurableFullPolicy.RejectNewest && _bytes + data.Length > _options.MaxBytes;
        if (data.Length > _options.MaxBytes || rejectNewest)
        {
            if (!_fullLogged)
            {
                _fullLogged = true;
                DurableLog.Full(_logger, _directory, _bytes, _options.MaxBytes, "refusing new data until there is room");
            }

            return AppendOutcome.Full;
        }

        var name = NextName();
        if (!TryWriteSegmentLocked(Path.Combine(_directory, name), data))
        {
            return AppendOutcome.WriteFailed;
        }

        UpdateLocked(name, data);
        if (_bytes > _options.MaxBytes)
        {
            if (!_fullLogged)
            {
                _fullLogged = true;
                DurableLog.Full(_logger, _directory, _bytes, _options.MaxBytes, "deleting the oldest data to make room");
            }

            foreach (var oldest in _segments.Keys.ToArray())
            {
                if (_bytes <= _options.MaxBytes)
                {
                    break;
                }

                if (oldest != name && !_taken.Contains(oldest))
                {
                    var items = _segments[oldest].Items;
                    if (DeleteSegmentLocked(oldest))
                    {
                        drops.Add((DropReason.BufferFull, items));
                    }
                }
            }
        }
        else
        {
            _fullLogged = false;
        }

        return AppendOutcome.Stored;
    }

    private string NextName()
    {
        var ticks = Math.Max(_time.GetUtcNow().UtcTicks, _lastTicks + 1);
        _lastTicks = ticks;
        var counter = Interlocked.Increment(ref s_counter);
        return string.Create(CultureInfo.InvariantCulture, $"{ticks:D19}-{Environment.ProcessId:D10}-{counter:D10}{SegmentExtension}");
    }

    /// <summary>Temporary file, write, fsync, rename over <paramref name="path"/>, fsync of the directory. False (and no temporary file left) on failure.</summary>
    private bool TryWriteSegmentLocked(string path, byte[] data)
    {
        var temp = string.Create(CultureInfo.InvariantCulture, $"{path}.{Environment.ProcessId}{TemporaryExtension}");
        try
        {
            using (var stream = _files.CreateNew(temp))
            {
                stream.Write(data);
                if (_options.FsyncBeforeRename)
                {
                    _files.FlushToDisk(stream);
                }
            }

            _files.Move(temp, path);
        }
        catch (Exception e) when (IsFileSystemFailure(e))
        {
            TryDelete(temp);
            if (!_writeFailing)
            {
                _writeFailing = true;
                DurableLog.WriteFailed(_logger, _directory, e.Message);
            }

            return false;
        }

        if (_options.FsyncBeforeRename)
        {
            try
            {
                _files.FlushDirectory(_directory);
            }
            catch (Exception e) when (IsFileSystemFailure(e))
            {
                // The segment is written and fsynced; only the rename's survival of a power loss is uncertain.
                DurableLog.FileFailed(_logger, "fsync", _directory, e.Message);
            }
        }

        if (_writeFailing)
        {
            _writeFailing = false;
            DurableLog.WriteRecovered(_logger, _directory);
        }

        return true;
    }

    /// <summary>Reads a segment for replay; counts and removes damaged records. Null when it has no valid record or cannot be read now.</summary>
    private DurableSegment? ReadLocked(string name, List<(DropReason Reason, long Items)> drops)
    {
        var path = Path.Combine(_directory, name);
        byte[] data;
        try
        {
            data = _files.ReadAll(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            RemoveLocked(name); // another process completed it
            return null;
        }
        catch (Exception e) when (IsFileSystemFailure(e))
        {
            DurableLog.FileFailed(_logger, "read", path, e.Message);
            return null;
        }

        var contents = DurableFormat.Decode(data);
        if (contents.LostRecords > 0)
        {
            if (_corruptionCounted.Add(name))
            {
                drops.Add((DropReason.Corrupt, contents.LostItems));
                DurableLog.Corrupt(_logger, contents.LostRecords, contents.LostItems, path);
            }

            if (contents.Records.Count == 0)
            {
                DeleteSegmentLocked(name);
                return null;
            }

            // Rewrite without the damaged records, so they are counted once even if this process dies before
            // the segment is delivered.
            var clean = DurableFormat.EncodeSegment(contents.Records);
            if (TryWriteSegmentLocked(path, clean))
            {
                UpdateLocked(name, clean);
                _corruptionCounted.Remove(name);
            }
        }
        else if (contents.Records.Count == 0)
        {
            DeleteSegmentLocked(name); // an empty segment: nothing to send
            return null;
        }
        else if (!contents.HeaderIntact)
        {
            UpdateLocked(name, DurableFormat.EncodeSegment(contents.Records), data.Length);
        }

        return new DurableSegment(path, contents.Records);
    }

    /// <summary>
    /// Brings the index in step with the directory: new segment files (another process's, or left from before) are
    /// added from their 40-byte header; files that disappeared (completed by the replaying process) are removed.
    /// </summary>
    private void RefreshLocked()
    {
        var onDisk = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in _files.GetFiles(_directory))
        {
            var name = Path.GetFileName(path);
            if (!IsSegmentName(name))
            {
                continue; // stray files, temporaries, the lock file: never read, never in the way
            }

            onDisk.Add(name);
            if (!_segments.ContainsKey(name) && TryIndex(path) is { } info)
            {
                AddLocked(name, info);
            }
        }

        foreach (var name in _segments.Keys.ToArray())
        {
            if (!onDisk.Contains(name) && !_taken.Contains(name))
            {
                RemoveLocked(name);
            }
        }
    }

    private SegmentInfo? TryIndex(string path)
    {
        try
        {
            Span<byte> header = stackalloc byte[DurableFormat.SegmentHeaderSize];
            var read = _files.ReadPrefix(path, header);
            if (DurableFormat.TryReadSegmentHeader(header[..read], out var parsed))
            {
                return new SegmentInfo(parsed.Records, parsed.Items, _files.GetLength(path), parsed.OldestTicks, parsed.NewestTicks);
            }

            // A damaged header: count what is readable (damage is counted when the segment is taken).
            var data = _files.ReadAll(path);
            var contents = DurableFormat.Decode(data);
            if (contents.Records.Count == 0)
            {
                var written = _files.GetLastWriteTime(path).UtcTicks;
                return new SegmentInfo(0, 0, data.Length, written, written);
            }

            return new SegmentInfo(
                contents.Records.Count,
                contents.Items,
                data.Length,
                contents.Records.Min(static r => r.CreatedAt.UtcTicks),
                contents.Records.Max(static r => r.CreatedAt.UtcTicks));
        }
        catch (Exception e) when (IsFileSystemFailure(e))
        {
            DurableLog.FileFailed(_logger, "index", path, e.Message);
            return null; // tried again on the next rescan
        }
    }

    /// <summary>Deletes segments (not being replayed) whose newest record is older than the retention.</summary>
    private void ExpireLocked(List<(DropReason Reason, long Items)> drops)
    {
        var cutoff = (_time.GetUtcNow() - _options.Retention).UtcTicks;
        foreach (var (name, info) in _segments.ToArray())
        {
            if (info.NewestTicks < cutoff && !_taken.Contains(name) && DeleteSegmentLocked(name))
            {
                drops.Add((DropReason.Expired, info.Items));
            }
        }
    }

    private void DeleteStaleTemporariesLocked()
    {
        var now = _time.GetUtcNow();
        foreach (var path in _files.GetFiles(_directory))
        {
            var name = Path.GetFileName(path);
            if (!name.EndsWith(TemporaryExtension, StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                var stem = name[..^TemporaryExtension.Length];
                var dot = stem.LastIndexOf('.');
                var writerGone = dot >= 0 &&
                    int.TryParse(stem.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var writer) &&
                    writer != Environment.ProcessId &&
                    !IsProcessRunning(writer);
                if (writerGone || now - _files.GetLastWriteTime(path) > _options.StaleTemporaryAge)
                {
                    _files.Delete(path);
                }
            }
            catch (Exception e) when (IsFileSystemFailure(e))
            {
                DurableLog.FileFailed(_logger, "delete", path, e.Message);
            }
        }
    }

    private bool DeleteSegmentLocked(string name)
    {
        var path = Path.Combine(_directory, name);
        try
        {
            _files.Delete(path);
        }
        catch (Exception e) when (IsFileSystemFailure(e))
        {
            DurableLog.FileFailed(_logger, "delete", path, e.Message);
            return false;
        }

        RemoveLocked(name);
        return true;
    }

    private void TryDelete(string path)
    {
        try
        {
            _files.Delete(path);
        }
        catch (Exception e) when (IsFileSystemFailure(e))
        {
            DurableLog.FileFailed(_logger, "delete", path, e.Message);
        }
    }

    /// <summary>Sets a segment's index entry from the bytes just written for it.</summary>
    private void UpdateLocked(string name, byte[] data, long? bytesOnDisk = null)
    {
        DurableFormat.TryReadSegmentHeader(data, out var header);
        RemoveLocked(name);
        AddLocked(name, new SegmentInfo(header.Records, header.Items, bytesOnDisk ?? data.Length, header.OldestTicks, header.NewestTicks));
    }

    private void AddLocked(string name, SegmentInfo info)
    {
        _segments.Add(name, info);
        _records += info.Records;
        _items += info.Items;
        _bytes += info.Bytes;
    }

    private void RemoveLocked(string name)
    {
        if (_segments.Remove(name, out var info))
        {
            _records -= info.Records;
            _items -= info.Items;
            _bytes -= info.Bytes;
        }

        _corruptionCounted.Remove(name);
    }

    private void Report(List<(DropReason Reason, long Items)> drops)
    {
        if (_onDrop is null)
        {
            return;
        }

        foreach (var (reason, items) in drops)
        {
            if (items <= 0)
            {
                continue;
            }

            try
            {
                _onDrop(reason, items);
            }
#pragma warning disable CA1031 // A throwing counter must not break the queue.
            catch (Exception e)
#pragma warning restore CA1031
            {
                DurableLog.FileFailed(_logger, "count drops for", _directory, e.Message);
            }
        }
    }

    /// <summary>What the index knows of one segment file without reading it whole.</summary>
    private readonly record struct SegmentInfo(int Records, long Items, long Bytes, long OldestTicks, long NewestTicks);
}
