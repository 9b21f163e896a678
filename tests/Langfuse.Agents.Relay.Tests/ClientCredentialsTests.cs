using System.Text;
using Langfuse.Agents.Relay.Internal;
using Shouldly;

namespace Langfuse.Agents.Relay.Tests;

public sealed class ClientCredentialsTests
{
    private readonly ClientCredentials _credentials = new("pk-lf-ä", "sk-lf:with-colon");

    [Theory]
    [InlineData("pk-lf-ä", "sk-lf:with-colon", true)]
    [InlineData("pk-lf-ä", "sk-lf:with-colon ", false)]
    [InlineData("pk-lf-a", "sk-lf:with-colon", false)]
    [InlineData("", "", false)]
    public void Verify_ComparesBothKeys(string publicKey, string secretKey, bool expected) =>
        _credentials.Verify("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{publicKey}:{secretKey}"))).ShouldBe(expected);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Basic")]
    [InlineData("Basic %%%")]
    [InlineData("Bearer cGstbGYtw6Q6c2stbGY6d2l0aC1jb2xvbg==")]
    public void Verify_RefusesAnythingElse(string? header) => _credentials.Verify(header).ShouldBeFalse();

    [Fact]
    public void Verify_AcceptsTheSchemeInAnyCase() =>
        _credentials.Verify("basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("pk-lf-ä:sk-lf:with-colon"))).ShouldBeTrue();
}
