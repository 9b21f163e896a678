namespace Langfuse.Agents.Internal.Durable;

/// <summary>
/// What the queue knows of its segment files without reading them: built from their headers when the queue opens,
/// then kept up to date by every append, take, complete, rewrite and expiry, so taking the next segment costs the
/// same with ten segments or ten thousand. Ordered three ways: by name (creation order, for replay and for eviction),
/// by newest record (for expiry: only segments past the cut-off are visited) and by oldest record (for stats).
/// Not thread-safe: the queue holds its lock around every call.
/// </summary>
internal sealed class SegmentIndex
{
    private readonly SortedDictionary<string, SegmentInfo> _byName = new(StringComparer.Ordinal);
    private readonly SortedSet<(long Ticks, string Name)> _byNewest = new(TicksThenName.Instance);
    private readonly SortedSet<(long Ticks, string Name)> _byOldest = new(TicksThenName.Instance);
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    public int Count => _byName.Count;

    public long Records { get; private set; }

    public long Items { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>The oldest record's CreatedAt ticks over every segment holding records, or null.</summary>
    public long? OldestTicks => _byOldest.Count == 0 ? null : _byOldest.Min.Ticks;

    /// <summary>Names in creation order.</summary>
    public IEnumerable<string> Names => _byName.Keys;

    public bool Contains(string name) => _byName.ContainsKey(name);

    public bool TryGet(string name, out SegmentInfo info) => _byName.TryGetValue(name, out info);

    public bool IsTaken(string name) => _taken.Contains(name);

    public void MarkTaken(string name) => _taken.Add(name);

    /// <summary>Puts a taken segment back; false when it was not taken.</summary>
    public bool Untake(string name) => _taken.Remove(name);

    /// <summary>Adds or replaces a segment's entry.</summary>
    public void Set(string name, SegmentInfo info)
    {
        Remove(name, keepTaken: true);
        _byName.Add(name, info);
        _byNewest.Add((info.NewestTicks, name));
        if (info.Records > 0)
        {
            _byOldest.Add((info.OldestTicks, name));
        }

        Records += info.Records;
        Items += info.Items;
        Bytes += info.Bytes;
    }

    /// <summary>Forgets a segment (its file is gone); also forgets that it was taken unless <paramref name="keepTaken"/>.</summary>
    public void Remove(string name, bool keepTaken = false)
    {
        if (!keepTaken)
        {
            _taken.Remove(name);
        }

        if (!_byName.Remove(name, out var info))
        {
            return;
        }

        _byNewest.Remove((info.NewestTicks, name));
        _byOldest.Remove((info.OldestTicks, name));
        Records -= info.Records;
        Items -= info.Items;
        Bytes -= info.Bytes;
    }

    /// <summary>
    /// The oldest segment that is not taken and not in <paramref name="skip"/>, or null. Costs the number of taken and
    /// skipped segments ahead of it, not the number of segments.
    /// </summary>
    public string? FirstAvailable(HashSet<string>? skip = null)
    {
        foreach (var name in _byName.Keys)
        {
            if (!_taken.Contains(name) && skip?.Contains(name) != true)
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>Segments not taken whose newest record is older than <paramref name="cutoffTicks"/>; visits only those.</summary>
    public List<(string Name, SegmentInfo Info)> ExpiredBefore(long cutoffTicks)
    {
        var expired = new List<(string, SegmentInfo)>();
        foreach (var (ticks, name) in _byNewest)
        {
            if (ticks >= cutoffTicks)
            {
                break;
            }

            if (!_taken.Contains(name))
            {
                expired.Add((name, _byName[name]));
            }
        }

        return expired;
    }

    /// <summary>Orders by ticks, then by name (ordinal), so two segments with the same ticks are both kept.</summary>
    private sealed class TicksThenName : IComparer<(long Ticks, string Name)>
    {
        public static readonly TicksThenName Instance = new();

        public int Compare((long Ticks, string Name) x, (long Ticks, string Name) y)
        {
            var byTicks = x.Ticks.CompareTo(y.Ticks);
            return byTicks != 0 ? byTicks : string.CompareOrdinal(x.Name, y.Name);
        }
    }
}
