namespace Langfuse.Agents.Testing;

/// <summary>
/// Where the tests' fake clocks start: Microsoft's <c>FakeTimeProvider</c> (Microsoft.Extensions.TimeProvider.Testing)
/// starts at 2000-01-01 unless told otherwise, and these tests' fixed HTTP dates ("an hour after the clock's start",
/// "in the past"), retention ages and Langfuse-shaped timestamps are written against 2026. Pass this where a test does
/// not choose its own start.
/// </summary>
public static class FakeClock
{
    /// <summary>2026-01-01T00:00:00Z.</summary>
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
}
