namespace Langfuse.Agents.Internal;

/// <summary>
/// A few key/value pairs in one small array, for metadata and model parameters. An observation usually carries
/// zero to three entries; a <see cref="Dictionary{TKey, TValue}"/> for them costs about 200 bytes on the caller's
/// thread, this 40 for one entry. Lookups are linear, which beats hashing at these sizes. Not thread-safe.
/// </summary>
/// <typeparam name="TValue">The value type.</typeparam>
internal struct SmallMap<TValue>
{
    private KeyValuePair<string, TValue>[]? _items;
    private int _count;

    public readonly int Count => _count;

    public readonly ReadOnlySpan<KeyValuePair<string, TValue>> Items => _items.AsSpan(0, _count);

    public void Set(string key, TValue value)
    {
        var items = _items;
        for (var i = 0; i < _count; i++)
        {
            if (string.Equals(items![i].Key, key, StringComparison.Ordinal))
            {
                items[i] = new(key, value);
                return;
            }
        }

        if (items is null)
        {
            _items = items = new KeyValuePair<string, TValue>[1]; // one entry is the most common case
        }
        else if (_count == items.Length)
        {
            Array.Resize(ref _items, items.Length * 2);
            items = _items;
        }

        items[_count++] = new(key, value);
    }

    /// <summary>A copy as a dictionary, for public getters and masking (rare paths).</summary>
    public readonly Dictionary<string, TValue> ToDictionary()
    {
        var dictionary = new Dictionary<string, TValue>(_count, StringComparer.Ordinal);
        foreach (var (key, value) in Items)
        {
            dictionary[key] = value;
        }

        return dictionary;
    }
}
