namespace Langfuse.Agents.Tests.Configuration;

/// <summary>A variable lookup over a fixed set of variables, standing in for the process environment.</summary>
internal static class EnvironmentStub
{
    public static Func<string, string?> Of(params (string Name, string? Value)[] variables)
    {
        var map = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in variables)
        {
            map[name] = value;
        }

        return name => map.GetValueOrDefault(name);
    }
}
