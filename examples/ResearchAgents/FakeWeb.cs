using System.Collections.Concurrent;

namespace ResearchAgents;

internal sealed record SearchResult(string Title, string Url, string Snippet);

internal sealed record Page(string Url, string Title, string Text);

/// <summary>
/// A deterministic, offline stand-in for a search API and the web, with network-like latencies on the
/// <see cref="TimeProvider"/> given. The first request for any page times out (think: a cold cache behind a slow
/// origin) and the second succeeds, so every run shows one retried tool call.
/// </summary>
internal sealed class FakeWeb(TimeProvider timeProvider)
{
    public static readonly TimeSpan SearchLatency = TimeSpan.FromMilliseconds(35);
    public static readonly TimeSpan FetchLatency = TimeSpan.FromMilliseconds(30);
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromMilliseconds(50);

    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<SearchResult>> SearchAsync(string query, CancellationToken cancellationToken = default)
    {
        await Task.Delay(SearchLatency, timeProvider, cancellationToken); // the HTTP round trip
        var slug = Slug(query);
        return
        [
            new($"{query}: a guide", $"https://docs.example.org/{slug}", $"A practical guide to {query}."),
            new($"{query} explained", $"https://blog.example.com/{slug}", $"Why {query} matters, with examples."),
        ];
    }

    public async Task<Page> FetchPageAsync(string url, CancellationToken cancellationToken = default)
    {
        if (_requests.AddOrUpdate(url, 1, static (_, count) => count + 1) == 1)
        {
            await Task.Delay(FetchTimeout, timeProvider, cancellationToken);
            throw new TimeoutException($"GET {url} timed out after {FetchTimeout.TotalMilliseconds:0} ms");
        }

        await Task.Delay(FetchLatency, timeProvider, cancellationToken);

        var title = url[(url.LastIndexOf('/') + 1)..].Replace('-', ' ');
        return new Page(url, title, $"{title}: the page explains the concepts, the trade-offs and how teams apply them in practice.");
    }

    private static string Slug(string text) =>
        string.Join('-', text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => new string([.. w.Where(c => char.IsLetterOrDigit(c) || c == '-')])).Where(w => w.Length > 0));
}
