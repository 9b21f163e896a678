using System.Collections.Concurrent;

namespace ResearchAgents;

internal sealed record SearchResult(string Title, string Url, string Snippet);

internal sealed record Page(string Url, string Title, string Text);

/// <summary>
/// A deterministic, offline stand-in for a search API and the web. The first request for any page times out
/// (think: a cold cache behind a slow origin) and the second succeeds, so every run shows one retried tool call.
/// </summary>
internal sealed class FakeWeb
{
    private readonly ConcurrentDictionary<string, int> _requests = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<SearchResult>> SearchAsync(string query, CancellationToken cancellationToken = default)
    {
        await Task.Yield(); // the HTTP round trip
        cancellationToken.ThrowIfCancellationRequested();
        var slug = Slug(query);
        return
        [
            new($"{query}: a guide", $"https://docs.example.org/{slug}", $"A practical guide to {query}."),
            new($"{query} explained", $"https://blog.example.com/{slug}", $"Why {query} matters, with examples."),
        ];
    }

    public async Task<Page> FetchPageAsync(string url, CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        if (_requests.AddOrUpdate(url, 1, static (_, count) => count + 1) == 1)
        {
            throw new TimeoutException($"GET {url} timed out after 2000 ms");
        }

        var title = url[(url.LastIndexOf('/') + 1)..].Replace('-', ' ');
        return new Page(url, title, $"{title}: the page explains the concepts, the trade-offs and how teams apply them in practice.");
    }

    private static string Slug(string text) =>
        string.Join('-', text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => new string([.. w.Where(c => char.IsLetterOrDigit(c) || c == '-')])).Where(w => w.Length > 0));
}
