using System.Reflection;
using Langfuse.Agents.Internal.Configuration;
using Shouldly;
using Xunit;

// Test names follow the house style Method_Condition_Result (STYLE.md, item 13).
#pragma warning disable CA1707

namespace Langfuse.Agents.Tests.Configuration;

public sealed class LangfuseSettingsTests
{
    // Options that are code, not text, and so have no environment variable.
    private static readonly string[] CodeOnly =
    [
        nameof(LangfuseOptions.Mask),
        nameof(LangfuseOptions.JsonSerializerOptions),
        nameof(LangfuseOptions.Capture),
    ];

    [Fact]
    public void All_CoversEveryPublicTextOption()
    {
        var properties = typeof(LangfuseOptions)
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && !CodeOnly.Contains(p.Name))
            .Select(p => p.Name)
            .Order();

        LangfuseSettings.All.Select(s => s.Key).Order().ShouldBe(properties);
    }

    [Fact]
    public void All_NamesAreUnique()
    {
        LangfuseSettings.All.Select(s => s.Key).ShouldBeUnique();
        LangfuseSettings.All.SelectMany(s => s.Aliases.Prepend(s.Variable)).ShouldBeUnique();
    }

    [Fact]
    public void All_OnlyTheKeysAreSecret()
    {
        LangfuseSettings.All.Where(s => s.IsSecret).Select(s => s.Variable).ShouldBe(["LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"]);
    }

    [Fact]
    public void All_EachOptionDocumentsItsVariable()
    {
        // The public docs name the variable; a renamed variable must be renamed in both places.
        var source = File.ReadAllText(Path.Combine(RepositoryRoot(), "src", "Langfuse.Agents", "LangfuseOptions.cs"));

        foreach (var setting in LangfuseSettings.All)
        {
            source.ShouldContain($"<c>{setting.Variable}</c>", customMessage: setting.Key);
        }
    }

    [Theory]
    [InlineData("https://alice:pw@host.example/x", "https://***@host.example/x")]
    [InlineData("https://host.example/a@b", "https://host.example/a@b")]
    [InlineData("no url here", "no url here")]
    [InlineData("https://a@b@host.example", "https://***@host.example")]
    public void MaskUserInfo_HidesOnlyTheUserInfo(string value, string expected)
    {
        SettingText.MaskUserInfo(value).ShouldBe(expected);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Directory.Build.props")) && Directory.Exists(Path.Combine(directory.FullName, "src")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("Repository root not found above " + AppContext.BaseDirectory);
    }
}
