namespace DistributedAgents;

/// <summary>A deterministic stand-in for a web search, so the example runs offline.</summary>
internal static class FakeIndex
{
    public static List<SearchHit> Search(string query)
    {
        var slug = new string([.. query.ToLowerInvariant().Where(char.IsLetterOrDigit).Take(24)]);
        var seed = (uint)query.Aggregate(17, (h, c) => (h * 31) + c);
        return
        [
            new($"Overview: {query}", $"https://example.org/{slug}/overview", 0.5 + (seed % 40 / 100.0)),
            new($"Deep dive: {query}", $"https://example.org/{slug}/deep-dive", 0.4 + (seed % 50 / 100.0)),
            new($"FAQ: {query}", $"https://example.org/{slug}/faq", 0.3 + (seed % 30 / 100.0)),
        ];
    }
}
