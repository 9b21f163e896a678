using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// The durable queue: one directory of segment files, each written by one <see cref="Append"/>.
/// <list type="bullet">
/// <item>Names: see <see cref="SegmentNames"/> (ordinal name order is creation order). The format is in
/// <see cref="DurableFormat"/>.</item>
/// <item>Writes are atomic per segment: <c>&lt;name&gt;.&lt;pid&gt;.tmp</c>, fsync, rename, fsync of the directory
/// (see <see cref="DurableQueueOptions.FsyncBeforeRename"/>). A crash leaves either the whole segment or a temporary
/// file, which the next open deletes (see <see cref="StaleTemporaries"/>).</item>
/// <item>Trust: the directory is checked and made private by <see cref="BufferDirectoryGuard"/>; every file is
/// opened without following links or blocking, and refused unless it is a regular file of this user's (see
/// <see cref="DurableFileSystem"/>); refused files are never read or deleted, and are reported in one line per scan.</item>
/// <item>Index: <see cref="SegmentIndex"/>, built from the segment headers at open and kept up to date by this
/// queue's own appends, takes, completions, rewrites and expiry, so a take costs the same whatever the backlog. The
/// directory is listed again only when its modification stamp shows a change this queue did not make (another
/// process appended or completed), or every <see cref="RescanInterval"/> in case another process's change landed while
/// this queue was writing (its own change then carries the stamp forward, and would hide the other).</item>
/// <item>Replay: only the process holding an exclusive lock on <c>replay.lock</c> in the directory takes segments
/// (flock on Unix, released when the process dies); the others keep appending and try the lock again on every
/// <see cref="TryTakeOldest"/>.</item>
/// <item>Bounds: <see cref="DurableQueueOptions.MaxBytes"/> with <see cref="DurableQueueOptions.FullPolicy"/>, and
/// <see cref="DurableQueueOptions.Retention"/>. The cap is enforced against the segments this process knows of
/// (its own, plus every segment seen by its last scan). With <see cref="DurableFullPolicy.DropOldest"/> the new
/// segment is written first and older ones are deleted afterwards, so the cap can be exceeded by one segment while
/// it is written, and nothing is dropped for an append that then fails.</item>
/// <item>Accounting: what the queue removes from disk (<see cref="DropReason.BufferFull"/>,
/// <see cref="DropReason.Expired"/>, <see cref="DropReason.Corrupt"/>) goes to the callback given at construction
/// with item counts, to <see cref="Drops"/>, and to the log, aggregated (see <see cref="DropReporter"/>). What an
/// append refuses (<see cref="AppendOutcome.Full"/>, <see cref="AppendOutcome.WriteFailed"/>,
/// <see cref="AppendOutcome.Unavailable"/>) the caller still holds, and counts.</item>
/// </list>
/// No member throws (other than the constructor for a null argument); members are thread-safe and serialised by one
/// lock, which an append holds through its fsync.
/// </summary>
internal sealed class DurableQueue : IDurableQueue
{
    public const string SegmentExtension = SegmentNames.SegmentExtension;
    public const string TemporaryExtension = SegmentNames.TemporaryExtension;
    public const string LockFileName = "replay.lock";

    /// <summary>The longest a change by another process can go unseen (when it landed during one of this queue's own writes).</summary>
    public static readonly TimeSpan RescanInterval = TimeSpan.FromSeconds(2);

    private readonly DurableQueueOptions _options;
    private readonly string _directory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IDurableFileSystem _files;
    private readonly DropReporter _drops;
    private readonly Lock _gate = new();
    private readonly SegmentIndex _index = new();
    private readonly HashSet<string> _corruptionCounted = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);
    private IDisposable? _replayLock;
    private long _bufferedItems;
    private long _lastTicks;
    private long _scannedStamp;
    private DateTimeOffset _lastScan;
    private long _scans;
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
            _drops = new DropReporter(_directory, onDrop, _logger, _time);
            DurableLog.Unusable(_logger, _directory, e.Message);
            return;
        }

        _drops = new DropReporter(_directory, onDrop, _logger, _time);
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

    /// <summary>Items this queue has dropped since it opened, by reason (also given to the drop callback and logged).</summary>
    public DurableQueueDrops Drops => _drops.Totals;

    /// <summary>How many times the directory was listed (at open, and when another process changed it): for tests and benchmarks.</summary>
    internal long Scans => Interlocked.Read(ref _scans);

    /// <inheritdoc />
    public long BufferedItems => Volatile.Read(ref _bufferedItems); // no lock, so no wait on an fsync

    /// <inheritdoc />
    public DurableQueueStats Stats
    {
        get
        {
            lock (_gate)
            {
                return new DurableQueueStats(
                    _index.Count,
                    _index.Records,
                    _index.Items,
                    _index.Bytes,
                    _index.OldestTicks is { } ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null);
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

        var drops = new List<DurableDrop>();
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
                if (_disposed || !_available)
                {
                    return AppendOutcome.Unavailable;
                }

                ExpireLocked(drops);
                var outcome = AppendLocked(data, drops);
                Publish();
                return outcome;
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
            _drops.Report(drops);
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

        var drops = new List<DurableDrop>();
        try
        {
            lock (_gate)
            {
                if (_disposed || !_available)
                {
                    return false;
                }

                try
                {
                    RefreshIfChangedLocked();
                    ExpireLocked(drops);
                    if (_replayLock is null && !TryTakeReplayLockLocked())
                    {
                        return false;
                    }

                    HashSet<string>? skip = null;
                    while (_index.FirstAvailable(skip) is { } name)
                    {
                        if (ReadLocked(name, drops) is { } taken)
                        {
                            _index.MarkTaken(name);
                            segment = taken;
                            return true;
                        }

                        (skip ??= new HashSet<string>(StringComparer.Ordinal)).Add(name); // unreadable now: try the next
                    }

                    return false;
                }
                finally
                {
                    Publish();
                }
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
            _drops.Report(drops);
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
                if (_index.Untake(name))
                {
                    DeleteSegmentLocked(name);
                    Publish();
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
            _index.Untake(Path.GetFileName(segment.Path));
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

        Rewrite(segment, remaining, putBack: true);
    }

    /// <inheritdoc />
    public void Checkpoint(DurableSegment segment, IReadOnlyList<DurableRecord> remaining)
    {
        if (segment is null || remaining is null || remaining.Count == 0)
        {
            return; // nothing left is a Complete, which the owner does once it is done with the segment
        }

        Rewrite(segment, remaining, putBack: false);
    }

    private void Rewrite(DurableSegment segment, IReadOnlyList<DurableRecord> remaining, bool putBack)
    {
        try
        {
            var data = DurableFormat.EncodeSegment(remaining);
            lock (_gate)
            {
                var name = Path.GetFileName(segment.Path);
                var taken = putBack ? _index.Untake(name) : _index.IsTaken(name);
                if (!taken || !_index.Contains(name))
                {
                    return;
                }

                if (TryWriteSegmentLocked(Path.Combine(_directory, name), data))
                {
                    SetFromWritten(name, data);
                    Publish();
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

    /// <summary>Releases the replay lock and logs drops still waiting for their line; later calls find the queue unavailable.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _available = false;
            _replayLock?.Dispose();
            _replayLock = null;
        }

        _drops.Flush();
    }

    /// <summary>True for a name this queue writes (<c>{19 digits}-{digits}-{digits}.lfq</c>); anything else in the directory is left alone.</summary>
    internal static bool IsSegmentName(string name) => SegmentNames.IsSegment(name);

    private static bool IsFileSystemFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException;

    private bool OpenDirectory()
    {
        var drops = new List<DurableDrop>();
        try
        {
            if (!BufferDirectoryGuard.TryPrepare(_files, _directory, LockFileName, _logger))
            {
                return false;
            }

            lock (_gate)
            {
                StaleTemporaries.Delete(_files, _directory, _time.GetUtcNow(), _options.StaleTemporaryAge, _logger);
                RefreshLocked();
                ExpireLocked(drops);
                Publish();
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
            _drops.Report(drops);
        }
    }

    /// <summary>Takes the replay lock; a lock file that is not a regular file of this user's makes the queue refuse service.</summary>
    private bool TryTakeReplayLockLocked()
    {
        var stampBefore = DirectoryStamp(); // the first attempt creates the lock file: a change of this queue's own
        try
        {
            _replayLock = _files.TryLockExclusive(Path.Combine(_directory, LockFileName));
        }
        catch (UntrustedFileException e)
        {
            // Planted while the queue runs: nothing could ever be replayed, so stop accepting too (a relay answers 503).
            _available = false;
            DurableLog.Refused(_logger, _directory, $"holds a {LockFileName} that {e.Reason}, not a regular file of this user's, so nothing could be replayed from it (remove it)");
            return false;
        }
        finally
        {
            CarryStamp(stampBefore);
        }

        if (_replayLock is null)
        {
            return false;
        }

        DurableLog.LockTaken(_logger, _directory);
        return true;
    }

    private AppendOutcome AppendLocked(byte[] data, List<DurableDrop> drops)
    {
        var rejectNewest = _options.FullPolicy == DurableFullPolicy.RejectNewest && _index.Bytes + data.Length > _options.MaxBytes;
        if (data.Length > _options.MaxBytes || rejectNewest)
        {
            if (!_fullLogged)
            {
                _fullLogged = true;
                DurableLog.Full(_logger, _directory, _index.Bytes, _options.MaxBytes, "refusing new data until there is room");
            }

            return AppendOutcome.Full;
        }

        var name = SegmentNames.Next(_time, ref _lastTicks);
        if (!TryWriteSegmentLocked(Path.Combine(_directory, name), data))
        {
            return AppendOutcome.WriteFailed;
        }

        SetFromWritten(name, data);
        if (_index.Bytes > _options.MaxBytes)
        {
            if (!_fullLogged)
            {
                _fullLogged = true;
                DurableLog.Full(_logger, _directory, _index.Bytes, _options.MaxBytes, "deleting the oldest data to make room");
            }

            EvictLocked(keep: name, drops);
        }
        else
        {
            _fullLogged = false;
        }

        return AppendOutcome.Stored;
    }

    /// <summary>Deletes the oldest segments (not being replayed, not <paramref name="keep"/>) until the queue is under its cap.</summary>
    private void EvictLocked(string keep, List<DurableDrop> drops)
    {
        var excess = _index.Bytes - _options.MaxBytes;
        var victims = new List<(string Name, SegmentInfo Info)>();
        foreach (var name in _index.Names)
        {
            if (excess <= 0)
            {
                break;
            }

            if (name != keep && !_index.IsTaken(name) && _index.TryGet(name, out var info))
            {
                victims.Add((name, info));
                excess -= info.Bytes;
            }
        }

        foreach (var (name, info) in victims)
        {
            if (DeleteSegmentLocked(name))
            {
                drops.Add(new DurableDrop(DropReason.BufferFull, info.Items, 1));
            }
        }
    }

    /// <summary>
    /// Temporary file, write, fsync, rename over <paramref name="path"/>, fsync of the directory. False (and no temporary
    /// file left) on failure. The directory's stamp is carried over when nothing else changed it meanwhile, so this
    /// queue's own writes do not make it list the directory again.
    /// </summary>
    private bool TryWriteSegmentLocked(string path, byte[] data)
    {
        var stampBefore = DirectoryStamp();
        try
        {
            return TryWriteSegmentCore(path, data);
        }
        finally
        {
            CarryStamp(stampBefore);
        }
    }

    private bool TryWriteSegmentCore(string path, byte[] data)
    {
        var temp = SegmentNames.Temporary(path);
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
    private DurableSegment? ReadLocked(string name, List<DurableDrop> drops)
    {
        var path = Path.Combine(_directory, name);
        byte[] data;
        try
        {
            data = _files.ReadAll(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            _index.Remove(name); // another process completed it
            _corruptionCounted.Remove(name);
            return null;
        }
        catch (UntrustedFileException e)
        {
            Refuse(name);
            DurableLog.Untrusted(_logger, 1, _directory, $"{name} ({e.Reason})");
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
                drops.Add(new DurableDrop(DropReason.Corrupt, contents.LostItems, contents.Records.Count == 0 ? 1 : 0));
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
                SetFromWritten(name, clean);
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
            SetFromWritten(name, DurableFormat.EncodeSegment(contents.Records), data.Length);
        }

        return new DurableSegment(path, contents.Records);
    }

    /// <summary>Lists the directory again when someone else changed it (or it has been a while); otherwise the index is current.</summary>
    private void RefreshIfChangedLocked()
    {
        var stamp = DirectoryStamp();
        if (stamp == 0 || stamp != _scannedStamp || _time.GetUtcNow() - _lastScan >= RescanInterval)
        {
            RefreshLocked();
        }
    }

    /// <summary>
    /// Brings the index in step with the directory: new segment files (another process's, or left from before) are
    /// added from their header; files that disappeared (completed by the replaying process) are removed; files that
    /// cannot be trusted are refused, once, in one log line.
    /// </summary>
    private void RefreshLocked()
    {
        Interlocked.Increment(ref _scans);
        var stamp = DirectoryStamp(); // before listing: a change during the listing shows at the next take
        var onDisk = new HashSet<string>(StringComparer.Ordinal);
        List<string>? untrusted = null;
        foreach (var path in _files.GetFiles(_directory))
        {
            var name = Path.GetFileName(path);
            if (!SegmentNames.IsSegment(name))
            {
                continue; // stray files, temporaries, the lock file: never read, never in the way
            }

            onDisk.Add(name);
            if (_index.Contains(name) || _refused.Contains(name))
            {
                continue;
            }

            // New names sort after every name seen, even when the clock stands still or went back since they were written.
            _lastTicks = Math.Max(_lastTicks, SegmentNames.Ticks(name));

            try
            {
                if (TryIndex(path) is { } info)
                {
                    _index.Set(name, info);
                }
            }
            catch (UntrustedFileException e)
            {
                Refuse(name);
                (untrusted ??= []).Add($"{name} ({e.Reason})");
            }
        }

        foreach (var name in _index.Names.ToArray())
        {
            if (!onDisk.Contains(name) && !_index.IsTaken(name))
            {
                _index.Remove(name);
                _corruptionCounted.Remove(name);
            }
        }

        _refused.IntersectWith(onDisk);
        _scannedStamp = stamp;
        _lastScan = _time.GetUtcNow();
        if (untrusted is not null)
        {
            DurableLog.Untrusted(_logger, untrusted.Count, _directory, string.Join(", ", untrusted.Take(3)) + (untrusted.Count > 3 ? ", ..." : string.Empty));
        }
    }

    /// <summary>A segment's entry from its header (or, when the header is damaged, from its readable records); null to retry later.</summary>
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
        catch (Exception e) when (e is not UntrustedFileException && IsFileSystemFailure(e))
        {
            DurableLog.FileFailed(_logger, "index", path, e.Message);
            return null; // tried again on the next scan
        }
    }

    /// <summary>Deletes segments (not being replayed) whose newest record is older than the retention; visits only those.</summary>
    private void ExpireLocked(List<DurableDrop> drops)
    {
        var now = _time.GetUtcNow().UtcTicks;
        var cutoff = _options.Retention.Ticks >= now ? 0 : now - _options.Retention.Ticks; // a retention longer than the calendar keeps everything
        foreach (var (name, info) in _index.ExpiredBefore(cutoff))
        {
            if (DeleteSegmentLocked(name))
            {
                drops.Add(new DurableDrop(DropReason.Expired, info.Items, 1));
            }
        }
    }

    private bool DeleteSegmentLocked(string name)
    {
        var path = Path.Combine(_directory, name);
        var stampBefore = DirectoryStamp();
        try
        {
            _files.Delete(path);
        }
        catch (Exception e) when (IsFileSystemFailure(e))
        {
            DurableLog.FileFailed(_logger, "delete", path, e.Message);
            return false;
        }
        finally
        {
            CarryStamp(stampBefore);
        }

        _index.Remove(name);
        _corruptionCounted.Remove(name);
        return true;
    }

    private void Refuse(string name)
    {
        _index.Remove(name);
        _corruptionCounted.Remove(name);
        _refused.Add(name);
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

    /// <summary>The directory's modification stamp, or 0 when it cannot be read (then every take lists the directory).</summary>
    private long DirectoryStamp()
    {
        try
        {
            return _files.GetStatus(_directory).Stamp;
        }
        catch (Exception e) when (IsFileSystemFailure(e))
        {
            return 0;
        }
    }

    /// <summary>After a change of this queue's own: if the index was current before it, it still is.</summary>
    private void CarryStamp(long stampBefore)
    {
        if (stampBefore != 0 && stampBefore == _scannedStamp)
        {
            _scannedStamp = DirectoryStamp();
        }
    }

    /// <summary>Sets a segment's index entry from the bytes just written for it.</summary>
    private void SetFromWritten(string name, byte[] data, long? bytesOnDisk = null)
    {
        DurableFormat.TryReadSegmentHeader(data, out var header);
        _index.Set(name, new SegmentInfo(header.Records, header.Items, bytesOnDisk ?? data.Length, header.OldestTicks, header.NewestTicks));
    }

    private void Publish() => Volatile.Write(ref _bufferedItems, _index.Items);
}
